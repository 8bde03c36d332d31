"""Market data values: OHLCV candles, top-of-book quotes and order books."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from gpttrader.domain.enums import Side
from gpttrader.domain.errors import DomainError
from gpttrader.domain.values import require_decimal, require_utc


@dataclass(frozen=True, slots=True)
class Candle:
    product_id: str
    time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "time", require_utc("time", self.time))
        for name in ("open", "high", "low", "close", "volume"):
            require_decimal(name, getattr(self, name), non_negative=True)
        if self.high < max(self.open, self.close) or self.low > min(self.open, self.close):
            raise DomainError(
                f"{self.product_id} candle at {self.time.isoformat()}: high/low {self.high}/{self.low} "
                f"do not enclose open/close {self.open}/{self.close}"
            )


@dataclass(frozen=True, slots=True)
class Quote:
    product_id: str
    bid: Decimal
    ask: Decimal
    last: Decimal
    time: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "time", require_utc("time", self.time))
        for name in ("bid", "ask", "last"):
            require_decimal(name, getattr(self, name), positive=True)
        if self.bid > self.ask:
            raise DomainError(f"{self.product_id} quote is crossed: bid {self.bid} > ask {self.ask}")

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2

    @property
    def spread_bps(self) -> Decimal:
        return (self.ask - self.bid) / self.mid * Decimal(10_000)


@dataclass(frozen=True, slots=True)
class BookLevel:
    """One price level of one side of an order book."""

    price: Decimal
    size: Decimal


@dataclass(frozen=True, slots=True)
class OrderBook:
    """Both sides of a product's book, best levels first: what the impact check walks and the spread and
    depth guards read."""

    product_id: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    time: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "time", require_utc("time", self.time))
        if not self.bids or not self.asks:
            raise DomainError(f"{self.product_id} book has an empty side")
        if self.bids[0].price > self.asks[0].price:
            raise DomainError(f"{self.product_id} book is crossed: bid {self.bids[0].price} > ask {self.asks[0].price}")

    @property
    def mid(self) -> Decimal:
        return (self.bids[0].price + self.asks[0].price) / 2

    @property
    def spread_bps(self) -> Decimal:
        return (self.asks[0].price - self.bids[0].price) / self.mid * Decimal(10_000)

    def taken_by(self, side: Side) -> tuple[BookLevel, ...]:
        """The side an order of `side` takes: the asks for a buy, the bids for a sell."""
        return self.asks if side is Side.BUY else self.bids

    def depth(self, within_bps: Decimal) -> Decimal:
        """The quote value resting within `within_bps` of the mid on the thinner side: what an order either
        way could take there."""
        band = self.mid * within_bps / Decimal(10_000)
        bids = sum((lv.price * lv.size for lv in self.bids if lv.price >= self.mid - band), Decimal(0))
        asks = sum((lv.price * lv.size for lv in self.asks if lv.price <= self.mid + band), Decimal(0))
        return min(bids, asks)
