"""Market data for a simulated broker, and the dev profile's: a fixed one-minute price path per product,
read on the clock; wider candles are built from its minutes, as an exchange builds them from trades.

The path's quote is the open of the bar the clock is in, with no spread: an order sent when a bar closes
fills where the backtest fills it, at the next bar's open (plus the model's slippage).

Its feed (`feed`) sends that quote as a ticker would, once per minute: a path has no clock of its own to
tick on, so each minute's quotes go out at the market's first read in that minute, on the reading thread
(as a simulated venue's fills happen inside the calls made to it). A fast clock's run stays the same run:
the quote streamed is the one a read at that moment returns.
"""

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from gpttrader.brokers.errors import BrokerError, NotFoundError
from gpttrader.brokers.protocol import EventSink
from gpttrader.brokers.simulated.events import SimulatedStream, VenueEvents
from gpttrader.domain import Candle, Granularity, Product, Quote
from gpttrader.domain.stream import QuoteEvent

MINUTE = timedelta(minutes=1)


class MarketData(Protocol):
    def products(self) -> list[Product]: ...

    def product(self, product_id: str) -> Product: ...

    def quote(self, product_id: str) -> Quote: ...

    def candles(self, product_id: str, granularity: Granularity, start: datetime, end: datetime) -> list[Candle]: ...

    def server_time(self) -> datetime:
        """The clock the market's bars are stamped by (Coinbase's, for paper: it decides when a bar closed)."""
        ...


class PricePathMarket:
    def __init__(
        self, products: Mapping[str, Product], candles: Mapping[str, Sequence[Candle]], clock: Callable[[], datetime]
    ) -> None:
        missing = sorted(set(products) - set(candles))
        if missing:
            raise ValueError(f"no price path for {', '.join(missing)}")
        self._products = dict(products)
        self._candles = {pid: list(candles[pid]) for pid in products}
        self._times = {pid: [c.time for c in path] for pid, path in self._candles.items()}
        self._clock = clock
        self._events = VenueEvents(clock)
        self._announced: datetime | None = None  # the minute whose quotes went out last
        self._lock = threading.RLock()  # a sink that reads the market again finds its minute sent

    def feed(self, on_event: EventSink) -> SimulatedStream:
        """The path's ticker for `on_event`, not yet started."""
        return SimulatedStream(self._events, on_event)

    def products(self) -> list[Product]:
        return list(self._products.values())

    def product(self, product_id: str) -> Product:
        product = self._products.get(product_id)
        if product is None:
            raise NotFoundError(f"unknown product {product_id}")
        return product

    def quote(self, product_id: str) -> Quote:
        now = self._now()
        bar = self._current(product_id, now)
        return Quote(product_id, bar.open, bar.open, bar.open, now)

    def candles(self, product_id: str, granularity: Granularity, start: datetime, end: datetime) -> list[Candle]:
        """Closed bars starting in [start, end)."""
        self.product(product_id)
        now = self._now()
        times = self._times[product_id]
        closed = now - granularity.width  # a bar starting after this has not ended
        first = bisect_left(times, granularity.bucket(start))
        last = min(bisect_left(times, end), bisect_right(times, now - MINUTE))
        minutes = self._candles[product_id][first:last]
        if granularity is Granularity.ONE_MINUTE:
            return minutes
        buckets: dict[datetime, list[Candle]] = {}
        for candle in minutes:
            buckets.setdefault(granularity.bucket(candle.time), []).append(candle)
        return [_merged(at, group) for at, group in buckets.items() if start <= at <= closed]

    def server_time(self) -> datetime:
        return self._now()

    def _now(self) -> datetime:
        """The clock, after the quotes of a minute not yet streamed went out."""
        now = self._clock()
        minute = now.replace(second=0, microsecond=0)
        with self._lock:
            if self._announced is not None and minute <= self._announced:
                return now
            self._announced = minute
            for product_id in self._products:
                try:
                    bar = self._current(product_id, now)
                except BrokerError:  # the clock is off the path: there is no quote to stream
                    continue
                self._events.publish(QuoteEvent(product_id, bar.open, bar.open, bar.open, now))
        return now

    def _current(self, product_id: str, now: datetime) -> Candle:
        self.product(product_id)
        index = bisect_right(self._times[product_id], now) - 1
        path = self._candles[product_id]
        if index < 0 or now >= path[-1].time + MINUTE:
            raise BrokerError(
                f"{product_id}: the price path covers {path[0].time:%Y-%m-%d %H:%M} to "
                f"{path[-1].time + MINUTE:%Y-%m-%d %H:%M} UTC, not {now:%Y-%m-%d %H:%M:%S}"
            )
        return path[index]


def _merged(at: datetime, minutes: list[Candle]) -> Candle:
    return Candle(
        minutes[0].product_id,
        at,
        minutes[0].open,
        max(c.high for c in minutes),
        min(c.low for c in minutes),
        minutes[-1].close,
        sum((c.volume for c in minutes), Decimal(0)),
    )
