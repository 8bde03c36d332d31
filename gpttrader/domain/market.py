"""Market data values: OHLCV candles, top-of-book quotes and order book levels."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

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
