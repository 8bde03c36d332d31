"""Coinbase's WebSocket messages read into typed stream events (Coinbase's documented payload shapes), strictly:
a message that cannot be read is a MalformedAnswerError, and the stream turns it into a resync."""

import copy
import json
import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gpttrader.brokers.coinbase.broker import CoinbaseBroker
from gpttrader.brokers.coinbase.stream_mapping import StreamDecoder
from gpttrader.brokers.coinbase.streams import CoinbaseStream
from gpttrader.brokers.errors import MalformedAnswerError
from gpttrader.brokers.simulated.events import SimulatedStream
from gpttrader.brokers.simulated.market import PricePathMarket
from gpttrader.brokers.simulated.paper import PaperBroker
from gpttrader.domain import OrderStatus, Side
from gpttrader.domain.stream import (
    FillEvent,
    OrderUpdateEvent,
    QuoteEvent,
    ResyncEvent,
    StreamEvent,
    TradeEvent,
)
from tests.waiting import wait_for

PAYLOADS = Path(__file__).resolve().parents[2] / "fixtures" / "coinbase"  # copies of Coinbase's documented payloads


def payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return data


def user_update(order: dict[str, Any], *, stamp: str, sequence: int, **changes: str) -> dict[str, Any]:
    """A user-channel update of `order` (a row of ws_user.json) with some of its fields changed."""
    message = payload("ws_user.json")
    message.update(timestamp=stamp, sequence_num=sequence)
    message["events"] = [{"type": "update", "orders": [{**order, **changes}]}]
    return message


def test_a_ticker_is_a_quote_stamped_with_the_message_time() -> None:
    events = StreamDecoder().decode(payload("ws_ticker.json"))
    assert events == [
        QuoteEvent(
            "BTC-USD",
            Decimal("68900.50"),
            Decimal("68900.00"),
            Decimal("68901.00"),
            datetime(2026, 4, 7, 14, 30, 3, tzinfo=UTC),
        )
    ]


def test_a_ticker_without_a_bid_or_ask_still_gives_its_price() -> None:
    message = payload("ws_ticker.json")
    message["channel"] = "ticker_batch"
    message["events"][0]["tickers"][0].update(best_bid="", best_ask="")
    (quote,) = StreamDecoder().decode(message)
    assert isinstance(quote, QuoteEvent)
    assert (quote.price, quote.bid, quote.ask) == (Decimal("68900.50"), None, None)


def test_a_user_snapshot_is_an_order_update_and_no_fill() -> None:
    (update,) = StreamDecoder().decode(payload("ws_user.json"))
    assert update == OrderUpdateEvent(
        order_id="a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        client_order_id="11111-000000-000001",
        product_id="BTC-USD",
        side=Side.BUY,
        status=OrderStatus.OPEN,
        filled_size=Decimal("0"),
        remaining_size=Decimal("0.001"),
        average_price=None,
        fees=Decimal("0"),
        time=datetime(2026, 4, 7, 14, 30, 6, tzinfo=UTC),
    )


def test_user_updates_give_the_size_newly_filled() -> None:
    decoder = StreamDecoder()
    snapshot = payload("ws_user.json")
    order = snapshot["events"][0]["orders"][0]
    decoder.decode(snapshot)  # open, nothing filled
    partly = decoder.decode(
        user_update(
            order,
            stamp="2026-04-07T14:30:20.000000Z",
            sequence=2,
            cumulative_quantity="0.0004",
            leaves_quantity="0.0006",
            avg_price="68900.00",
            total_fees="0.11",
        )
    )
    assert [type(e) for e in partly] == [OrderUpdateEvent, FillEvent]
    update, fill = partly
    assert isinstance(update, OrderUpdateEvent)
    assert update.status is OrderStatus.PARTIALLY_FILLED
    assert update.average_price == Decimal("68900.00")
    assert fill == FillEvent(
        order_id=order["order_id"],
        client_order_id="11111-000000-000001",
        product_id="BTC-USD",
        side=Side.BUY,
        size=Decimal("0.0004"),
        price=Decimal("68900.00"),
        fee=Decimal("0.11"),
        time=datetime(2026, 4, 7, 14, 30, 20, tzinfo=UTC),
        trade_id=None,
    )
    done = decoder.decode(
        user_update(
            order,
            stamp="2026-04-07T14:30:40.000000Z",
            sequence=3,
            status="FILLED",
            cumulative_quantity="0.001",
            leaves_quantity="0",
            avg_price="68902.00",
            filled_value="68.902",
            total_fees="0.28",
        )
    )
    rest = done[1]
    assert isinstance(done[0], OrderUpdateEvent)
    assert done[0].status is OrderStatus.FILLED
    assert isinstance(rest, FillEvent)
    assert rest.size == Decimal("0.0006")
    assert rest.fee == Decimal("0.17")
    assert rest.price * rest.size + Decimal("0.0004") * Decimal("68900.00") == Decimal("68.902")
    # An order first seen in an update (placed after subscribing) had nothing filled before it.
    market = decoder.decode(
        user_update(
            {**order, "order_id": "other", "client_order_id": "c-2"},
            stamp="2026-04-07T14:30:41.000000Z",
            sequence=4,
            status="FILLED",
            cumulative_quantity="0.002",
            leaves_quantity="0",
            avg_price="68950.00",
            total_fees="0.5",
        )
    )
    assert isinstance(market[1], FillEvent)
    assert (market[1].size, market[1].price, market[1].fee) == (Decimal("0.002"), Decimal("68950.00"), Decimal("0.5"))


def test_market_trades_are_trade_events_and_heartbeats_and_acks_are_nothing() -> None:
    trades = {
        "channel": "market_trades",
        "client_id": "",
        "timestamp": "2026-04-07T14:30:02.789012Z",
        "sequence_num": 5,
        "events": [
            {
                "type": "update",
                "trades": [
                    {
                        "trade_id": "995098700",
                        "product_id": "BTC-USD",
                        "price": "68900.50",
                        "size": "0.00150000",
                        "side": "BUY",
                        "time": "2026-04-07T14:30:02.789012Z",
                    }
                ],
            }
        ],
    }
    decoder = StreamDecoder()
    assert decoder.decode(trades) == [
        TradeEvent(
            "BTC-USD",
            "995098700",
            Decimal("68900.50"),
            Decimal("0.00150000"),
            Side.BUY,
            datetime(2026, 4, 7, 14, 30, 2, 789012, tzinfo=UTC),
        )
    ]
    acknowledgement = {
        "channel": "subscriptions",
        "client_id": "",
        "timestamp": "2026-04-07T14:30:00.000000Z",
        "sequence_num": 6,
        "events": [{"subscriptions": {"ticker": ["BTC-USD"], "heartbeats": ["BTC-USD"]}}],
    }
    heartbeat = payload("ws_heartbeats.json")
    heartbeat["sequence_num"] = 7
    assert decoder.decode(acknowledgement) == []
    assert decoder.decode(heartbeat) == []


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda m: m["events"][0]["tickers"][0].pop("price"), "websocket ticker.*'price' is missing"),
        (lambda m: m["events"][0]["tickers"][0].update(price="sixty"), "'price' is not a number"),
        (lambda m: m.pop("timestamp"), "websocket ticker.*'timestamp' is missing"),
        (lambda m: m["events"][0].pop("tickers"), "'tickers' is missing or not a list"),
    ],
)
def test_a_malformed_ticker_is_an_error(change: Any, match: str) -> None:
    message = payload("ws_ticker.json")
    change(message)
    with pytest.raises(MalformedAnswerError, match=match):
        StreamDecoder().decode(message)


def test_a_malformed_user_message_is_an_error_and_changes_nothing_known() -> None:
    decoder = StreamDecoder()
    snapshot = payload("ws_user.json")
    order = snapshot["events"][0]["orders"][0]
    decoder.decode(snapshot)
    garbled = user_update(order, stamp="2026-04-07T14:30:20Z", sequence=2, cumulative_quantity="0.0004")
    garbled["events"].insert(0, {"type": "update", "orders": [{**order, "status": "MYSTERY"}]})
    with pytest.raises(MalformedAnswerError, match="websocket user.*order status this toolkit does not know"):
        decoder.decode(garbled)
    no_side = user_update(order, stamp="2026-04-07T14:30:21Z", sequence=3, order_side="")
    with pytest.raises(MalformedAnswerError, match="'order_side' is missing"):
        decoder.decode(no_side)
    # The fill the garbled message carried is reported by the next readable update, not lost.
    events = decoder.decode(user_update(order, stamp="2026-04-07T14:30:22Z", sequence=4, cumulative_quantity="0.0004"))
    assert [e.size for e in events if isinstance(e, FillEvent)] == [Decimal("0.0004")]
    with pytest.raises(MalformedAnswerError, match="not JSON"):
        decoder.read("not json at all")


def test_a_sequence_gap_is_a_resync_before_the_message_s_events() -> None:
    decoder = StreamDecoder()
    ticker = payload("ws_ticker.json")
    for sequence in (10, 11):
        ticker["sequence_num"] = sequence
        assert [type(e) for e in decoder.decode(copy.deepcopy(ticker))] == [QuoteEvent]
    ticker["sequence_num"] = 14
    gap = decoder.decode(ticker)
    assert [type(e) for e in gap] == [ResyncEvent, QuoteEvent]
    assert isinstance(gap[0], ResyncEvent)
    assert gap[0].reason == "sequence gap before 14"
    decoder.reset()  # a new connection numbers afresh
    ticker["sequence_num"] = 0
    assert [type(e) for e in decoder.decode(ticker)] == [QuoteEvent]


def test_the_stream_turns_a_malformed_message_into_a_resync() -> None:
    received: list[StreamEvent] = []
    lock = threading.Lock()

    def sink(event: StreamEvent) -> None:
        with lock:
            received.append(event)

    stream = CoinbaseStream("ws://127.0.0.1:9", None, on_event=sink)
    try:
        stream._handle((PAYLOADS / "ws_ticker.json").read_text())
        broken = payload("ws_user.json")
        del broken["events"][0]["orders"][0]["status"]
        stream._handle(json.dumps(broken))
        wait_for(lambda: len(received) == 2)
    finally:
        stream.stop()
    quote, resync = received
    assert isinstance(quote, QuoteEvent)
    assert isinstance(resync, ResyncEvent)
    assert resync.reason.startswith("malformed message: ")
    assert "'status' is missing" in resync.reason
    assert stream.health.malformed == 1
    assert stream.health.callback_errors == 0
    assert stream.health.channels == {"ticker": 1}


def test_a_broker_builds_its_feed_for_the_sink_and_a_simulated_one_always_streams_its_orders() -> None:
    def sink(event: StreamEvent) -> None:
        pass

    built: list[object] = []

    def feed(on_event: Any) -> CoinbaseStream:
        built.append(on_event)
        return CoinbaseStream("ws://127.0.0.1:9", None, on_event=on_event)

    now = datetime(2026, 4, 7, 14, 30, tzinfo=UTC)
    assert CoinbaseBroker(object()).stream(sink) is None  # type: ignore[arg-type]
    # A simulated venue streams its own orders' events with or without a market feed beside them.
    alone = PaperBroker(PricePathMarket({}, {}, lambda: now), {}, lambda: now, balances={}).stream(sink)
    assert isinstance(alone, SimulatedStream)
    assert built == []
    coinbase = CoinbaseBroker(object(), streams=feed).stream(sink)  # type: ignore[arg-type]
    assert isinstance(coinbase, CoinbaseStream)
    coinbase.stop()
    paper = PaperBroker(PricePathMarket({}, {}, lambda: now), {}, lambda: now, balances={}, stream=feed)
    assert isinstance(paper.stream(sink), SimulatedStream)
    assert built == [sink, sink]  # each feed built for the sink it was asked for
