"""What a strategy is: it sees bars and its own state, and returns an intent; it never calls a broker.

Each strategy answers twice, with the same decisions: `targets()` over a whole history at once (the
backtest's fast path) and `on_bar()` one bar at a time with a state the engine keeps for it (paper and
live, and the backtest's check). The strategy object itself holds only parameters, so one object can
trade many products, in a backtest and live at the same time.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray

Array = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Bar:
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


def bars(candles: pd.DataFrame, product_id: str) -> list[Bar]:
    """The rows of a candles frame as Bars, for stepping a strategy through history."""
    times = pd.to_datetime(candles["time"], utc=True).dt.to_pydatetime()
    columns = [candles[c].to_numpy(dtype=float) for c in ("open", "high", "low", "close", "volume")]
    return [Bar(product_id, t, *values) for t, *values in zip(times, *columns, strict=True)]
