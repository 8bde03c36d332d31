"""Filters that can veto a direction, each switchable: volume, momentum and trend.

A filter answers, per bar, which directions it allows: +1 (long only), -1 (short only), 0 (neither),
2 (both). The pipeline keeps a direction only where every enabled filter allows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from gpttrader.strategy.base import Array, Bar
from gpttrader.strategy.indicators import SMA, sign_of, sign_of_difference, sma

if TYPE_CHECKING:
    import pandas as pd

BOTH = 2.0


class FilterStep(Protocol):
    def update(self, bar: Bar) -> float | None: ...


class Filter(Protocol):
    @property
    def enabled(self) -> bool: ...

    def allowed(self, candles: pd.DataFrame) -> Array: ...

    def stepper(self) -> FilterStep: ...


@dataclass(frozen=True)
class VolumeFilter:
    """Trade only on bars whose volume is at least `min_ratio` of its `period`-bar average."""

    period: int = 20
    min_ratio: float = 1.0
    enabled: bool = True

    def allowed(self, candles: pd.DataFrame) -> Array:
        volume = candles["volume"].to_numpy(dtype=float)
        average = sma(volume, self.period)
        out: Array = np.where(np.isnan(average), 0.0, np.where(volume >= self.min_ratio * average, BOTH, 0.0))
        return out

    def stepper(self) -> FilterStep:
        average, ratio = SMA(self.period), self.min_ratio

        class _Step:
            def update(self, bar: Bar) -> float | None:
                value = average.update(bar.volume)
                return 0.0 if value is None else BOTH if bar.volume >= ratio * value else 0.0

        return _Step()


@dataclass(frozen=True)
class MomentumFilter:
    """Long only after a rise over `period` bars, short only after a fall."""

    period: int = 10
    enabled: bool = True

    def allowed(self, candles: pd.DataFrame) -> Array:
        close = candles["close"].to_numpy(dtype=float)
        change = np.r_[np.full(self.period, np.nan), close[self.period :] - close[: -self.period]]
        out: Array = np.where(np.isnan(change), 0.0, np.sign(change))
        return out

    def stepper(self) -> FilterStep:
        window: list[float] = []
        period = self.period

        class _Step:
            def update(self, bar: Bar) -> float | None:
                window.append(bar.close)
                if len(window) <= period:
                    return 0.0
                change = window[-1] - window.pop(0)
                return float(np.sign(change))

        return _Step()


@dataclass(frozen=True)
class TrendFilter:
    """Long only above the `period`-bar average, short only below it."""

    period: int = 50
    enabled: bool = True

    def allowed(self, candles: pd.DataFrame) -> Array:
        close = candles["close"].to_numpy(dtype=float)
        average = sma(close, self.period)
        out: Array = np.where(np.isnan(average), 0.0, sign_of_difference(close, average))
        return out

    def stepper(self) -> FilterStep:
        average = SMA(self.period)

        class _Step:
            def update(self, bar: Bar) -> float | None:
                value = average.update(bar.close)
                return 0.0 if value is None else sign_of(bar.close, value)

        return _Step()


def apply_filters(direction: Array, allowed: list[Array]) -> Array:
    """Keep each bar's direction only where every filter allows it."""
    kept = direction.copy()
    for allow in allowed:
        kept = np.where((allow == BOTH) | (allow == kept), kept, 0.0)
    return kept
