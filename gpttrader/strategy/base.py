"""What a strategy is: it sees bars and its own state, and returns an intent; it never calls a broker.

Two kinds of intent. A `Strategy` says what position it wants (`TargetPosition`) and answers twice,
with the same decisions: `targets()` over a whole history at once (the backtest's fast path) and
`on_bar()` one bar at a time with a state the engine keeps for it (paper and live, and the backtest's
check). An `OrderStrategy` says how to trade (`OrderIntent`: a limit or stop-limit entry, with a
take-profit and stop-loss bracket attached); it has no vectorized form, so the backtest steps it bar by
bar. Either object holds only parameters, so one object can trade many products, in a backtest and live
at the same time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from gpttrader.domain import OrderType, Side

if TYPE_CHECKING:
    import pandas as pd

Array = NDArray[np.float64]
BARS_PER_CHUNK = 1 << 16
# An entry may work for at most this many bars (at one day each, 273 years): a time beyond that is no expiry.
MAX_EXPIRE_BARS = 100_000


class Bar(NamedTuple):
    """One closed bar. A named tuple rather than a dataclass: a backtest makes one per bar, millions of them,
    and a tuple is made three times faster."""

    product_id: str
    time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True, slots=True)
class TargetPosition:
    """The intent: hold `target` of equity in the product (1 all-in long, 0 flat, -1 all-in short)."""

    product_id: str
    target: float
    confidence: float
    reason: str


_ENTRY_PRICES = {OrderType.MARKET: (False, False), OrderType.LIMIT: (True, False), OrderType.STOP_LIMIT: (True, True)}


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """The intent to place one entry order, sized as `fraction` of the equity a full position would use
    (as a target's magnitude is). With `take_profit` and `stop_loss`, a bracket exit for what the entry
    fills is attached once it fills, as Coinbase attaches one. A limit entry works until filled or for
    `expire_bars` bars."""

    product_id: str
    side: Side
    order_type: OrderType = OrderType.MARKET
    fraction: float = 1.0
    limit_price: float | None = None
    stop_price: float | None = None
    take_profit: float | None = None
    stop_loss: float | None = None
    expire_bars: int | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.order_type not in _ENTRY_PRICES:
            kinds = ", ".join(_ENTRY_PRICES)
            raise ValueError(f"order_type {self.order_type} is not an entry; one of {kinds} (exits are attached)")
        needs_limit, needs_stop = _ENTRY_PRICES[self.order_type]
        for name, needed in (("limit_price", needs_limit), ("stop_price", needs_stop)):
            value = getattr(self, name)
            if needed != (value is not None):
                raise ValueError(f"a {self.order_type} intent {'needs' if needed else 'takes no'} {name}")
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive, got {value}")
        if not 0 < self.fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {self.fraction}")
        if (self.take_profit is None) != (self.stop_loss is None):
            raise ValueError("take_profit and stop_loss come together (a bracket has both legs)")
        if self.take_profit is not None and self.stop_loss is not None:
            above, below = (
                (self.take_profit, self.stop_loss) if self.side is Side.BUY else (self.stop_loss, self.take_profit)
            )
            if not 0 < below < above:
                raise ValueError(
                    f"a {self.side} entry's take_profit {self.take_profit} and stop_loss {self.stop_loss} are the "
                    "wrong way round"
                )
        if self.expire_bars is not None and not 1 <= self.expire_bars <= MAX_EXPIRE_BARS:
            raise ValueError(f"expire_bars must be from 1 to {MAX_EXPIRE_BARS:,}, got {self.expire_bars}")

    @property
    def exits(self) -> tuple[float, float] | None:
        return None if self.take_profit is None or self.stop_loss is None else (self.take_profit, self.stop_loss)


@dataclass(frozen=True, slots=True)
class CancelEntries:
    """Withdraw the product's entries still working (a limit the strategy no longer wants) and place nothing;
    the exits protecting what already filled stay. An order strategy returns it among its intents. To amend
    an entry, return the new one: new intents replace the product's working entries."""

    product_id: str
    reason: str = ""


Intent = OrderIntent | CancelEntries


@runtime_checkable
class Strategy(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def warmup(self) -> int:
        """Bars needed before the first decision."""
        ...

    def targets(self, candles: pd.DataFrame) -> Array:
        """The target after each bar's close, for every bar of `candles` (0 during warm-up)."""
        ...

    def new_state(self) -> Any:
        """Fresh per-product state for `on_bar`."""
        ...

    def on_bar(self, bar: Bar, state: Any) -> TargetPosition:
        """The target after `bar` closes; must equal `targets()` at that bar."""
        ...


class OrderStrategy(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def warmup(self) -> int: ...

    def new_state(self) -> Any: ...

    def on_bar(self, bar: Bar, state: Any) -> tuple[Intent, ...]:
        """The orders to place after `bar` closes (none: keep what is working). New orders replace the
        product's entries still working, and `CancelEntries` withdraws them; the exits attached to filled
        entries stay."""
        ...


def bars(candles: pd.DataFrame, product_id: str) -> Iterator[Bar]:
    """The rows of a candles frame as Bars, one at a time, for stepping a strategy through history: made a
    chunk of rows at a time, so that a million rows are never held as millions of Python objects at once."""
    import pandas as pd  # history is a backtest's; the live loop steps bars it builds itself

    stamps = pd.DatetimeIndex(pd.to_datetime(candles["time"], utc=True))
    arrays = [candles[c].to_numpy(dtype=float) for c in ("open", "high", "low", "close", "volume")]
    for start in range(0, len(stamps), BARS_PER_CHUNK):
        stop = start + BARS_PER_CHUNK
        times = stamps[start:stop].to_pydatetime()
        # tolist(): plain floats, not numpy scalars (whose repr is not a number; a price goes to Decimal by repr)
        opens, highs, lows, closes, volumes = (a[start:stop].tolist() for a in arrays)
        for t, o, h, low, c, v in zip(times, opens, highs, lows, closes, volumes, strict=True):
            yield Bar(product_id, t, o, h, low, c, v)
