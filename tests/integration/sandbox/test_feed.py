"""The sandbox's WebSocket feed through the SDK's own WSClient, and raw where the SDK would refuse."""

import asyncio
import json
import time
from decimal import Decimal
from typing import Any

import websockets
from coinbase.websocket import WSClient

from gpttrader.sandbox import RunningSandbox
from tests.integration.sandbox.conftest import admin, sdk_client
from tests.integration.sandbox.feeds import Collector
from tests.waiting import wait_for


def ws_client(sandbox: RunningSandbox, collector: Collector) -> WSClient:
    key = json.loads(sandbox.settings.key_files[0].read_text())
    return WSClient(api_key=key["name"], api_secret=key["privateKey"], base_url=sandbox.ws_url, on_message=collector)


def test_market_channels_snapshot_then_update_with_contiguous_sequence(sandbox: RunningSandbox) -> None:
    collector = Collector()
    client = ws_client(sandbox, collector)
    client.open()
    try:
        client.subscribe(["BTC-USD", "ETH-USD"], ["ticker", "level2", "market_trades", "candles", "status"])
        client.subscribe([], ["heartbeats"])
        wait_for(lambda: len(collector.on("heartbeats")) >= 2)
        admin(sandbox, advance_minutes=3)
        wait_for(lambda: any(e["type"] == "update" for m in collector.on("ticker") for e in m["events"]))
    finally:
        client.close()
    sequences = [m["sequence_num"] for m in collector.messages]
    assert sequences == list(range(len(sequences)))
    ack = collector.on("subscriptions")[-1]["events"][0]["subscriptions"]
    assert ack["level2"] == ["BTC-USD", "ETH-USD"]
    assert "heartbeats" in ack
    counters = [m["events"][0]["heartbeat_counter"] for m in collector.on("heartbeats")]
    assert counters == list(range(len(counters)))
    ticker = collector.on("ticker")[0]["events"][0]
    assert ticker["type"] == "snapshot"
    assert {t["product_id"] for t in ticker["tickers"]} == {"BTC-USD", "ETH-USD"}
    assert Decimal(ticker["tickers"][0]["best_bid"]) < Decimal(ticker["tickers"][0]["best_ask"])
    status = collector.on("status")[0]["events"][0]["products"]
    assert {p["id"] for p in status} == {"BTC-USD", "ETH-USD"}
    assert not collector.on("level2"), "level2 is sent on channel l2_data"


def test_level2_updates_applied_to_the_snapshot_give_the_current_book(sandbox: RunningSandbox) -> None:
    collector = Collector()
    client = ws_client(sandbox, collector)
    client.open()
    try:
        client.subscribe(["BTC-USD"], ["level2"])
        wait_for(lambda: len(collector.on("l2_data")) >= 1)
        admin(sandbox, advance_minutes=5)
        wait_for(lambda: any(e["type"] == "update" for m in collector.on("l2_data") for e in m["events"]))
        time.sleep(0.3)
        book: dict[tuple[str, Decimal], Decimal] = {}
        for message in collector.on("l2_data"):
            for event in message["events"]:
                for update in event["updates"]:
                    level = (update["side"], Decimal(update["price_level"]))
                    if Decimal(update["new_quantity"]) == 0:
                        book.pop(level, None)
                    else:
                        book[level] = Decimal(update["new_quantity"])
    finally:
        client.close()
    rest = sdk_client(sandbox).get_product_book("BTC-USD", limit=20).pricebook
    assert max(p for side, p in book if side == "bid") == Decimal(rest.bids[0]["price"])
    assert min(p for side, p in book if side == "offer") == Decimal(rest.asks[0]["price"])
    assert len(book) == 40


def test_user_channel_reports_order_changes(sandbox: RunningSandbox) -> None:
    collector = Collector()
    client = ws_client(sandbox, collector)
    rest = sdk_client(sandbox)
    client.open()
    try:
        client.subscribe([], ["user"])
        wait_for(lambda: len(collector.on("user")) >= 1)
        assert collector.on("user")[0]["events"][0]["type"] == "snapshot"
        placed = rest.market_order_buy(client_order_id="ws-1", product_id="BTC-USD", base_size="0.01")
        order_id = placed.success_response["order_id"]
        wait_for(
            lambda: any(
                o["order_id"] == order_id and o["status"] == "FILLED"
                for m in collector.on("user")
                for e in m["events"]
                for o in e["orders"]
            )
        )
    finally:
        client.close()
    update = next(
        o for m in collector.on("user") for e in m["events"] for o in e["orders"] if o["order_id"] == order_id
    )
    assert update["client_order_id"] == "ws-1"
    assert Decimal(update["cumulative_quantity"]) == Decimal("0.01")
    assert update["leaves_quantity"] == "0"


def raw_exchange(sandbox: RunningSandbox, messages: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    async def talk() -> list[dict[str, Any]]:
        import ssl

        context = ssl.create_default_context(cafile=str(sandbox.cert_path))
        async with websockets.connect(sandbox.ws_url, ssl=context) as ws:
            for message in messages:
                await ws.send(json.dumps(message))
            return [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(count)]

    return asyncio.run(talk())


def test_private_channels_need_a_valid_jwt_and_bad_requests_get_errors(sandbox: RunningSandbox) -> None:
    answers = raw_exchange(
        sandbox,
        [
            {"type": "subscribe", "channel": "user", "product_ids": []},
            {"type": "subscribe", "channel": "user", "product_ids": [], "jwt": "eyJ.bad.token"},
            {"type": "subscribe", "channel": "moon", "product_ids": ["BTC-USD"]},
            {"type": "subscribe", "channel": "ticker", "product_ids": ["NOPE-USD"]},
            {"type": "dance", "channel": "ticker", "product_ids": ["BTC-USD"]},
        ],
        5,
    )
    assert [a["type"] for a in answers] == ["error"] * 5
    assert "authentication failure" in answers[0]["message"]
    assert "authentication failure" in answers[1]["message"]
    assert "unknown channel 'moon'" in answers[2]["message"]
    assert "unknown product ids: NOPE-USD" in answers[3]["message"]
    assert "type must be subscribe or unsubscribe" in answers[4]["message"]


def test_rest_and_feed_report_the_same_trades(sandbox: RunningSandbox) -> None:
    rest = sdk_client(sandbox).get_market_trades("ETH-USD", limit=5).trades
    collector = Collector()
    client = ws_client(sandbox, collector)
    client.open()
    try:
        client.subscribe(["ETH-USD"], ["market_trades"])
        wait_for(lambda: len(collector.on("market_trades")) >= 1)
    finally:
        client.close()
    fed = collector.on("market_trades")[0]["events"][0]["trades"]
    # The path stands still (speed 0): both show the latest five trades of one tape.
    assert {(t["trade_id"], t["price"], t["size"], t["side"]) for t in rest} == {
        (t["trade_id"], t["price"], t["size"], t["side"]) for t in fed
    }


def test_the_admin_api_drops_feed_connections(sandbox: RunningSandbox) -> None:
    from tests.integration.sandbox.conftest import admin_call

    collector = Collector()
    client = ws_client(sandbox, collector)
    client.open()
    try:
        client.subscribe(["BTC-USD"], ["heartbeats"])  # the SDK resubscribes only channels with product ids
        wait_for(lambda: len(collector.on("heartbeats")) >= 1)
        response = admin_call(sandbox, "POST", "faults", {"kind": "drop_websocket"})
        assert response.json() == {"dropped": 1}
        # The SDK reconnects after an abnormal close and resubscribes: a new connection starts at sequence 0.
        wait_for(lambda: [m["sequence_num"] for m in collector.messages].count(0) >= 2)
    finally:
        client.close()
