"""Stream events (as the Coinbase stream reads them from Coinbase's own payloads) turned into marks,
wake-ups and orders to read again."""

import dataclasses
import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from gpttrader.brokers.coinbase.stream_mapping import StreamDecoder
from gpttrader.domain import OrderStatus, Side
from gpttrader.domain.stream import (
    FillEvent,
    OrderUpdateEvent,
    QuoteEvent,
    ResyncEvent,
    StreamEvent,
    TradeEvent,
)
from gpttrader.engine.feed import FeedHandler
from gpttrader.engine.marks import MarkBook

PAYLOADS = Path(__file__).resolve().parents[2] / "fixtures" / "coinbase"  # copies of Coinbase's documented payloads
T0 = datetime(2026, 4, 7, 14, 30, 3, tzinfo=UTC)


def events(name: str) -> list[StreamEvent]:
    return StreamDecoder().read((PAYLOADS / name).read_text())[1]


def deliver(feed: FeedHandler, stream: list[StreamEvent]) -> None:
    for event in stream:
        feed.on_event(event)


def test_ticks_become_marks_and_a_new_minute_wakes_the_loop() -> None:
    marks, wake = MarkBook(), threading.Event()
    feed = FeedHandler(marks, wake)
    (tick,) = events("ws_ticker.json")  # 14:30:03, BTC-USD at 68900.50
    assert isinstance(tick, QuoteEvent)
    feed.on_event(tick)
    assert marks.price("BTC-USD") == Decimal("68900.50")
    assert marks.time("BTC-USD") == T0
    assert not wake.is_set()  # the first tick seen: no bar known to have closed
    feed.on_event(
        dataclasses.replace(tick, price=Decimal("68910.00"), time=datetime(2026, 4, 7, 14, 30, 59, tzinfo=UTC))
    )
    assert not wake.is_set()
    assert feed.bar_closed_at is None
    feed.on_event(dataclasses.replace(tick, time=datetime(2026, 4, 7, 14, 31, 0, 200000, tzinfo=UTC)))
    assert wake.is_set()
    assert feed.bar_closed_at is not None
    feed.on_event(dataclasses.replace(tick, time=datetime(2026, 4, 7, 14, 30, 30, tzinfo=UTC)))
    # a late event does not take the mark back
    assert marks.time("BTC-USD") == datetime(2026, 4, 7, 14, 31, 0, 200000, tzinfo=UTC)


def test_order_updates_and_resyncs_are_queued_for_the_loop() -> None:
    wake = threading.Event()
    feed = FeedHandler(MarkBook(), wake)
    deliver(feed, events("ws_user.json"))
    assert wake.is_set()
    assert feed.take() == ({"11111-000000-000001"}, False)
    assert feed.take() == (set(), False)
    feed.on_event(ResyncEvent("reconnected", T0))
    assert feed.take() == (set(), True)
    assert events("ws_heartbeats.json") == []  # nothing to act on
    fill = FillEvent("o-2", "c-2", "BTC-USD", Side.SELL, Decimal("0.5"), Decimal("68900"), Decimal("1.2"), T0)
    feed.on_event(fill)
    assert feed.take() == ({"c-2"}, False)


def test_orders_not_the_bots_and_market_trades_queue_nothing() -> None:
    wake = threading.Event()
    feed = FeedHandler(MarkBook(), wake)
    feed.on_event(TradeEvent("BTC-USD", "995098700", Decimal("68900.50"), Decimal("0.0015"), Side.BUY, T0))
    assert not wake.is_set()
    foreign = OrderUpdateEvent(
        "o-3", None, "BTC-USD", Side.BUY, OrderStatus.OPEN, Decimal(0), Decimal(1), None, Decimal(0), T0
    )
    feed.on_event(foreign)
    assert wake.is_set()  # still an account change: the loop looks
    assert feed.take() == (set(), False)
