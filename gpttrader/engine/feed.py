"""What the feed tells the bot, turned into what it acts on.

The feed is the broker's stream (`Broker.stream`): typed events, never a venue's messages. Quote prices
become marks (fresher than a REST quote, and the stale-data guard reads their age). The first quote of a
new minute means the last bar has closed, so the loop is woken to decide on it at once instead of at its
next timer. An order update or a fill wakes the loop to read that order's fills by REST (each once, by
trade id); a market trade is not acted on; a resync (after a reconnect, a sequence gap or an unreadable
message, when events may have been missed) has every open order read again. The callback runs on the
feed's threads, so it only records and wakes; the work happens on the loop's.
"""

import threading
import time
from datetime import datetime

from gpttrader.domain.stream import FillEvent, OrderUpdateEvent, QuoteEvent, ResyncEvent, StreamEvent
from gpttrader.engine.marks import MarkBook


class FeedHandler:
    def __init__(self, marks: MarkBook, wake: threading.Event) -> None:
        self._marks = marks
        self._wake = wake
        self._lock = threading.Lock()
        self._orders: set[str] = set()
        self._resync = False
        self._minute: datetime | None = None
        self.bar_closed_at: float | None = None  # perf_counter of the tick that closed the last bar

    def on_event(self, event: StreamEvent) -> None:
        """The stream's sink (`EventSink`)."""
        if isinstance(event, QuoteEvent):
            self._marks.update(event.product_id, event.price, event.time)
            self._new_minute(event.time)
        elif isinstance(event, (OrderUpdateEvent, FillEvent)):
            if event.client_order_id:
                with self._lock:
                    self._orders.add(event.client_order_id)
            self._wake.set()
        elif isinstance(event, ResyncEvent):
            self.resync(event.reason)
        # A TradeEvent (the market's trades) changes nothing here: the marks come from quotes.

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
