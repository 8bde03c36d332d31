"""The simulated venue's push feed: the typed events Coinbase's stream sends, told by the venue itself.

The venue publishes each event right after the change it reports (an order's update once its status,
size or filled size changed; a fill, and the market trade it made, once it is booked), on the thread that
made the change and while the venue still holds its lock, so every sink sees the changes in the order
they happened. A sink only records and wakes (`EventSink`): nothing it does waits on a lock the venue's
callers hold (the engine's execution lock is held around broker calls, never taken by its feed).

A subscription takes events as a Coinbase subscription does, by product and channel: `user` (order
updates and fills), `market_trades` (trades) and `ticker` (quotes, from the market's own feed). A sink
that raises on an event is sent a ResyncEvent after it: what it failed to take in is read again by REST.
"""

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from gpttrader.brokers.protocol import EventSink, Stream
from gpttrader.domain.stream import (
    FillEvent,
    OrderUpdateEvent,
    QuoteEvent,
    ResyncEvent,
    StreamEvent,
    TradeEvent,
)

log = logging.getLogger(__name__)

ACCOUNT_CHANNEL = "user"  # the account's orders: only the venue knows them, its market's feed is public


def channel_of(event: StreamEvent) -> str | None:
    """The Coinbase channel that carries `event`; None for a resync, which every subscription gets."""
    if isinstance(event, (OrderUpdateEvent, FillEvent)):
        return "user"
    if isinstance(event, TradeEvent):
        return "market_trades"
    if isinstance(event, QuoteEvent):
        return "ticker"
    return None


@dataclass(frozen=True, slots=True)
class _Subscription:
    sink: EventSink
    products: frozenset[str]
    channels: frozenset[str]

    def wants(self, event: StreamEvent) -> bool:
        channel = channel_of(event)
        if channel is None:
            return True
        return channel in self.channels and getattr(event, "product_id", None) in self.products


class VenueEvents:
    """Where a venue publishes its events and its streams subscribe to them."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._subscriptions: list[_Subscription] = []
        self._lock = threading.Lock()

    def subscribe(self, sink: EventSink, product_ids: Sequence[str], channels: Sequence[str]) -> _Subscription:
        subscription = _Subscription(sink, frozenset(product_ids), frozenset(channels))
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: _Subscription) -> None:
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

    def publish(self, event: StreamEvent) -> None:
        with self._lock:
            subscriptions = [s for s in self._subscriptions if s.wants(event)]
        for subscription in subscriptions:
            try:
                subscription.sink(event)
            except Exception:
                log.exception("a stream sink failed on %s; it is told to read everything again", type(event).__name__)
                self._resync(subscription.sink, f"{type(event).__name__} not taken in")

    def _resync(self, sink: EventSink, reason: str) -> None:
        try:
            sink(ResyncEvent(reason, self._clock()))
        except Exception:
            log.exception("a stream sink failed on the resync after %s", reason)


@dataclass
class _Health:
    connected: bool = False


class SimulatedStream:
    """A simulated broker's `Stream`: the venue's own events for the products and channels started with,
    and its market's feed (quotes; paper: Coinbase's ticker, dev: the price path's) where it has one."""

    def __init__(self, events: VenueEvents, on_event: EventSink, market: Stream | None = None) -> None:
        self._events = events
        self._on_event = on_event
        self._market = market
        self._subscription: _Subscription | None = None
        self._market_started = False

    @property
    def health(self) -> _Health:
        """Connected while started, and while its market's feed is (when one was started)."""
        market = self._market if self._market_started else None
        return _Health(self._subscription is not None and (market is None or market.health.connected))

    def start(self, product_ids: Sequence[str], channels: Sequence[str]) -> None:
        self._subscription = self._events.subscribe(self._on_event, product_ids, channels)
        public = [c for c in channels if c != ACCOUNT_CHANNEL]
        if self._market is not None and public:
            self._market.start(product_ids, public)
            self._market_started = True

    def stop(self) -> None:
        if self._subscription is not None:
            self._events.unsubscribe(self._subscription)
            self._subscription = None
        if self._market_started and self._market is not None:
            self._market.stop()
            self._market_started = False
