"""The contract table's WebSocket half: every channel the adapter subscribes (`streams.CoinbaseStream`:
`ticker` and `user` for the bot, `market_trades` it reads trades from, `heartbeats` always) and the
`subscriptions` acknowledgement, through the official SDK's WSClient with the adapter's arguments (every
channel with the product ids). Each message must parse in the SDK's `WebsocketResponse`, carry no field that
neither its classes declare nor Coinbase's messages carry, and have the shape of Coinbase's message on that
channel (`shapes`, from the reference payloads). For a user channel, an order update: the snapshot may
list no order."""

import copy
import json
from typing import Any

import pytest
from coinbase.websocket import WSClient
from coinbase.websocket.types.websocket_response import WebsocketResponse

from tests.integration.contract import shapes
from tests.integration.contract.conftest import Venue
from tests.integration.contract.sdk_fields import capture, undeclared
from tests.integration.sandbox.feeds import Collector
from tests.waiting import wait_for

CHANNELS = {
    "heartbeats": shapes.WS_HEARTBEATS,
    "subscriptions": shapes.WS_SUBSCRIPTIONS,
    "ticker": shapes.WS_TICKER,
    "market_trades": shapes.WS_MARKET_TRADES,
    "user": shapes.WS_USER,
}


def with_orders(message: dict[str, Any]) -> bool:
    return any(event.get("orders") for event in message.get("events", []))


@pytest.fixture(scope="module")
def messages(venue: Venue) -> dict[str, dict[str, Any]]:
    """The first message on each channel (on `user`, the first that lists an order)."""
    key = json.loads(venue.sandbox.settings.key_files[0].read_text())
    collector = Collector()
    ws = WSClient(
        api_key=key["name"], api_secret=key["privateKey"], base_url=venue.sandbox.ws_url, on_message=collector
    )
    ws.open()
    try:
        ws.subscribe(["BTC-USD"], ["heartbeats", "market_trades", "ticker", "user"])
        wait_for(lambda: all(collector.on(c) for c in CHANNELS if c != "user"))
        assert venue.client.market_order_buy(client_order_id="c-feed", product_id="BTC-USD", base_size="0.001").success
        wait_for(lambda: any(with_orders(m) for m in collector.on("user")))
    finally:
        ws.close()
    first = {channel: collector.on(channel)[0] for channel in CHANNELS}
    first["user"] = next(m for m in collector.on("user") if with_orders(m))
    return first


@pytest.mark.parametrize("channel", list(CHANNELS))
def test_the_message_is_coinbases_as_the_sdk_reads_it(messages: dict[str, dict[str, Any]], channel: str) -> None:
    message = messages[channel]
    with capture() as left_over:
        typed = WebsocketResponse(copy.deepcopy(message))
    unknown = sorted(set(left_over + undeclared(typed)) - shapes.COINBASE_ONLY)
    assert unknown == [], "fields neither the SDK's classes declare nor Coinbase's messages carry"
    assert shapes.differences(message, CHANNELS[channel], channel) == []
