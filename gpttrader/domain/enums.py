"""Enumerations of the trading vocabulary; values match the strings Coinbase uses where one exists."""

from datetime import UTC, datetime, timedelta
from enum import StrEnum


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> "Side":
        return Side.SELL if self is Side.BUY else Side.BUY


class ProductType(StrEnum):
    SPOT = "SPOT"
    FUTURE = "FUTURE"
    PERPETUAL = "PERPETUAL"


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP_LIMIT = "STOP_LIMIT"
    BRACKET = "BRACKET"


class TimeInForce(StrEnum):
    GTC = "GTC"
    GTD = "GTD"
    IOC = "IOC"
    FOK = "FOK"


class OrderStatus(StrEnum):
    """Lifecycle of an order as this process sees it.

    PENDING is the state between "written to the orders store" and "acknowledged by the venue": an order
    found PENDING after a restart is exactly the one that reconciliation must look up before resending.
    UNKNOWN is an order whose send ended without a definite answer (a timeout, a 5xx after the retries, a
    dropped connection, a garbled answer): the venue may hold it. Until it is found (or found absent) its
    full size counts as exposure and its product takes no new order.
    """

    PENDING = "PENDING"
    UNKNOWN = "UNKNOWN"
    OPEN = "OPEN"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"

    @property
    def is_terminal(self) -> bool:
        return not _NEXT[self]

    @property
    def is_unresolved(self) -> bool:
        """Written, perhaps sent, never acknowledged: the venue may hold it or not."""
        return self in (OrderStatus.PENDING, OrderStatus.UNKNOWN)

    def can_become(self, new: "OrderStatus") -> bool:
        """Whether a venue report may move an order from this status to `new` (staying put is allowed)."""
        return new is self or new in _NEXT[self]


_SETTLED_BY_THE_VENUE = frozenset(
    {
        OrderStatus.OPEN,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.FILLED,
        OrderStatus.CANCELLED,
        OrderStatus.EXPIRED,
        OrderStatus.REJECTED,
        OrderStatus.FAILED,
    }
)
_NEXT: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: _SETTLED_BY_THE_VENUE | {OrderStatus.UNKNOWN},
    OrderStatus.UNKNOWN: _SETTLED_BY_THE_VENUE,
    OrderStatus.OPEN: frozenset(
        {
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.FILLED,
            OrderStatus.CANCELLED,
            OrderStatus.EXPIRED,
            OrderStatus.FAILED,
        }
    ),
    OrderStatus.PARTIALLY_FILLED: frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED}),
    OrderStatus.FILLED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.EXPIRED: frozenset(),
    OrderStatus.REJECTED: frozenset(),
    OrderStatus.FAILED: frozenset(),
}


class Liquidity(StrEnum):
    MAKER = "MAKER"
    TAKER = "TAKER"


class MarketRegime(StrEnum):
    """The market's state as sizing reads it: its trend (bull, sideways, bear) and its volatility against its
    own history (quiet, volatile)."""

    BULL_QUIET = "bull_quiet"
    BULL_VOLATILE = "bull_volatile"
    SIDEWAYS_QUIET = "sideways_quiet"
    SIDEWAYS_VOLATILE = "sideways_volatile"
    BEAR_QUIET = "bear_quiet"
    BEAR_VOLATILE = "bear_volatile"


class Granularity(StrEnum):
    """Candle widths, named as Coinbase names them."""

    ONE_MINUTE = "ONE_MINUTE"
    FIVE_MINUTE = "FIVE_MINUTE"
    FIFTEEN_MINUTE = "FIFTEEN_MINUTE"
    THIRTY_MINUTE = "THIRTY_MINUTE"
    ONE_HOUR = "ONE_HOUR"
    TWO_HOUR = "TWO_HOUR"
    FOUR_HOUR = "FOUR_HOUR"
    SIX_HOUR = "SIX_HOUR"
    ONE_DAY = "ONE_DAY"

    @property
    def seconds(self) -> int:
        return _SECONDS[self]

    @property
    def width(self) -> timedelta:
        return timedelta(seconds=_SECONDS[self])

    def bucket(self, moment: datetime) -> datetime:
        """The start of the bucket `moment` falls in: buckets start on multiples of their width since the
        epoch (a day at 00:00 UTC), as Coinbase's candles do."""
        stamp = int(moment.timestamp())
        return datetime.fromtimestamp(stamp - stamp % _SECONDS[self], UTC)

    @classmethod
    def parse(cls, value: "str | int | Granularity") -> "Granularity":
        """From a name (ONE_MINUTE, 1m style is not accepted) or a width in seconds; errors list the choices."""
        if isinstance(value, Granularity):
            return value
        for granularity in cls:
            if value in (granularity.value, granularity.seconds):
                return granularity
        choices = ", ".join(f"{g.value} ({g.seconds}s)" for g in cls)
        raise ValueError(f"granularity {value!r} is not one of {choices}")


_SECONDS = {
    Granularity.ONE_MINUTE: 60,
    Granularity.FIVE_MINUTE: 300,
    Granularity.FIFTEEN_MINUTE: 900,
    Granularity.THIRTY_MINUTE: 1800,
    Granularity.ONE_HOUR: 3600,
    Granularity.TWO_HOUR: 7200,
    Granularity.FOUR_HOUR: 14400,
    Granularity.SIX_HOUR: 21600,
    Granularity.ONE_DAY: 86400,
}
