"""Feed messages (Coinbase's own payloads) turned into marks, wake-ups and orders to read again."""

import copy
import json
import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from gpttrader.engine.feed import FeedHandler
from gpttrader.engine.marks import MarkBook

PAYLOADS = Path(__file__).resolve().parents[2] / "fixtures" / "coinbase"  # copies of Coinbase's documented payloads


def payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return data


def test_ticks_become_marks_and_a_new_minute_wakes_the_loop() -> None:
    marks, wake = MarkBook(), threading.Event()
    feed = FeedHandler(marks, wake)
    tick = payload("ws_ticker.json")  # 14:30:03, BTC-USD at 68900.50
    feed.message(tick)
    assert marks.price("BTC-USD") == Decimal("68900.50")
    assert marks.time("BTC-USD") == datetime(2026, 4, 7, 14, 30, 3, tzinfo=UTC)
    assert not wake.is_set()  # the first tick seen: no bar known to have closed
    later = copy.deepcopy(tick)
    later["timestamp"] = "2026-04-07T14:30:59.000000Z"
    later["events"][0]["tickers"][0]["price"] = "68910.00"
    feed.message(later)
    assert not wake.is_set()
    assert feed.bar_closed_at is None
    closing = copy.deepcopy(tick)
    closing["timestamp"] = "2026-04-07T14:31:00.200000Z"
    feed.message(closing)
    assert wake.is_set()
    assert feed.bar_closed_at is not None
    stale = copy.deepcopy(tick)
    stale["timestamp"] = "2026-04-07T14:30:30.000000Z"
    feed.message(stale)  # a late message does not take the mark back
    assert marks.time("BTC-USD") == datetime(2026, 4, 7, 14, 31, 0, 200000, tzinfo=UTC)


def test_order_updates_and_resyncs_are_queued_for_the_loop() -> None:
    wake = threading.Event()
    feed = FeedHandler(MarkBook(), wake)
    feed.message(payload("ws_user.json"))
    assert wake.is_set()
    assert feed.take() == ({"11111-000000-000001"}, False)
    assert feed.take() == (set(), False)
    feed.resync("reconnected")
    assert feed.take() == (set(), True)
    feed.message(payload("ws_heartbeats.json"))  # nothing to act on
    assert feed.take() == (set(), False)
