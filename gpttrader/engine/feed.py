"""What the feed tells the bot, turned into what it acts on.

Ticker prices become marks (fresher than a REST quote, and the stale-data guard reads their age). The
first tick of a new minute means the last bar has closed, so the loop is woken to decide on it at once
instead of at its next timer. An order update on the user channel wakes the loop to read that order's
fills by REST (each once, by trade id), and a resync (after a reconnect or a sequence gap, when messages
may have been missed) has every open order read again. The callbacks run on the feed's thread, so they
only record and wake; the work happens on the loop's.
"""

import threading
import time
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from gpttrader.engine.marks import MarkBook


class Stream(Protocol):
    def start(self, product_ids: Sequence[str], channels: Sequence[str]) -> None: ...

    def stop(self) -> None: ...


class FeedHandler:
    def __init__(self, marks: MarkBook, wake: threading.Event) -> None:
        self._marks = marks
        self._wake = wake
        self._lock = threading.Lock()
        self._orders: set[str] = set()
        self._resync = False
        self._minute: datetime | None = None
        self.bar_closed_at: float | None = None  # perf_counter of the tick that closed the last bar

    def message(self, message: dict[str, Any]) -> None:
        channel = message.get("channel")
        stamp = message.get("timestamp")
        at = datetime.fromisoformat(stamp.replace("Z", "+00:00")) if isinstance(stamp, str) else None
        for event in message.get("events", []):
            if channel in ("ticker", "ticker_batch") and at is not None:
                for ticker in event.get("tickers", []):
                    self._marks.update(ticker["product_id"], Decimal(ticker["price"]), at)
                self._new_minute(at)
            elif channel == "user":
                with self._lock:
                    self._orders.update(
                        o["client_order_id"] for o in event.get("orders", []) if o.get("client_order_id")
                    )
                self._wake.set()

    def resync(self, reason: str) -> None:
        with self._lock:
            self._resync = True
        self._wake.set()

    def take(self) -> tuple[set[str], bool]:
        """The orders to read again (and whether all of them), since the last call."""
        with self._lock:
            orders, everything = self._orders, self._resync
            self._orders, self._resync = set(), False
        return orders, everything

    def _new_minute(self, at: datetime) -> None:
        minute = at.replace(second=0, microsecond=0)
        if self._minute is not None and minute > self._minute:
            self.bar_closed_at = time.perf_counter()
            self._wake.set()
        self._minute = minute if self._minute is None else max(self._minute, minute)
