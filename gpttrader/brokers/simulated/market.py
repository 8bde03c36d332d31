"""Market data for a simulated broker, and the dev profile's: a fixed one-minute price path per product,
read on the clock; wider candles are built from its minutes, as an exchange builds them from trades.

The path's quote is the open of the bar the clock is in, with no spread: an order sent when a bar closes
fills where the backtest fills it, at the next bar's open (plus the model's slippage).
"""

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from gpttrader.brokers.errors import BrokerError, NotFoundError
from gpttrader.domain import Candle, Granularity, Product, Quote

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

    def products(self) -> list[Product]:
        return list(self._products.values())

    def product(self, product_id: str) -> Product:
        product = self._products.get(product_id)
        if product is None:
            raise NotFoundError(f"unknown product {product_id}")
        return product

    def quote(self, product_id: str) -> Quote:
        bar = self._current(product_id)
        return Quote(product_id, bar.open, bar.open, bar.open, self._clock())

    def candles(self, product_id: str, granularity: Granularity, start: datetime, end: datetime) -> list[Candle]:
        """Closed bars starting in [start, end)."""
        self.product(product_id)
        times = self._times[product_id]
        closed = self._clock() - granularity.width  # a bar starting after this has not ended
        first = bisect_left(times, granularity.bucket(start))
        last = min(bisect_left(times, end), bisect_right(times, self._clock() - MINUTE))
        minutes = self._candles[product_id][first:last]
        if granularity is Granularity.ONE_MINUTE:
            return minutes
        buckets: dict[datetime, list[Candle]] = {}
        for candle in minutes:
            buckets.setdefault(granularity.bucket(candle.time), []).append(candle)
        return [_merged(at, group) for at, group in buckets.items() if start <= at <= closed]

    def server_time(self) -> datetime:
        return self._clock()

    def _current(self, product_id: str) -> Candle:
        self.product(product_id)
        now = self._clock()
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
