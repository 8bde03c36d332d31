"""Signals: a view on the market as a number in [-1, 1] per bar (+1 buy, -1 sell, 0 no view).

Each signal is computed vectorized (`compute`) or bar by bar (`stepper().update`), with the same values;
NaN (vectorized) or None (bar by bar) while it warms up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from gpttrader.strategy.base import Array, Bar
from gpttrader.strategy.indicators import (
    MACD,
    RSI,
    SMA,
    Bollinger,
    bollinger,
    macd,
    rsi,
    sign_of,
    sign_of_difference,
    sma,
)

if TYPE_CHECKING:
    import pandas as pd


class Stepper(Protocol):
    def update(self, bar: Bar) -> float | None: ...


class Signal(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def warmup(self) -> int: ...

    def compute(self, candles: pd.DataFrame) -> Array: ...

    def stepper(self) -> Stepper: ...


@dataclass(frozen=True)
class MovingAverageCrossSignal:
    """+1 while the fast average is above the slow one, -1 while below."""

    fast: int
    slow: int
    name: str = "ma_cross"

    def __post_init__(self) -> None:
        if not 1 <= self.fast < self.slow:
            raise ValueError(f"fast ({self.fast}) must be at least 1 and below slow ({self.slow})")

    @property
    def warmup(self) -> int:
        return self.slow

    def compute(self, candles: pd.DataFrame) -> Array:
        close = candles["close"].to_numpy(dtype=float)
        return sign_of_difference(sma(close, self.fast), sma(close, self.slow))

    def stepper(self) -> Stepper:
        fast, slow = SMA(self.fast), SMA(self.slow)

        class _Step:
            def update(self, bar: Bar) -> float | None:
                f, s = fast.update(bar.close), slow.update(bar.close)
                return None if f is None or s is None else sign_of(f, s)

        return _Step()


@dataclass(frozen=True)
class RSISignal:
    """Mean reversion: +1 when RSI is below `oversold`, -1 above `overbought`, 0 between."""

    period: int = 14
    oversold: float = 30.0
    overbought: float = 70.0
    name: str = "rsi"

    def __post_init__(self) -> None:
        if not 0 < self.oversold < self.overbought < 100:
            raise ValueError(f"need 0 < oversold ({self.oversold}) < overbought ({self.overbought}) < 100")

    @property
    def warmup(self) -> int:
        return self.period + 1

    def _vote(self, value: Array) -> Array:
        out: Array = np.where(value < self.oversold, 1.0, np.where(value > self.overbought, -1.0, 0.0))
        return np.where(np.isnan(value), np.nan, out)

    def compute(self, candles: pd.DataFrame) -> Array:
        return self._vote(rsi(candles["close"].to_numpy(dtype=float), self.period))

    def stepper(self) -> Stepper:
        indicator, vote = RSI(self.period), self._vote

        class _Step:
            def update(self, bar: Bar) -> float | None:
                value = indicator.update(bar.close)
                return None if value is None else float(vote(np.array([value]))[0])

        return _Step()


@dataclass(frozen=True)
class MACDSignal:
    """Trend: the sign of the MACD histogram."""

    fast: int = 12
    slow: int = 26
    signal: int = 9
    name: str = "macd"

    @property
    def warmup(self) -> int:
        return self.slow + self.signal - 1

    def compute(self, candles: pd.DataFrame) -> Array:
        line, signal, _ = macd(candles["close"].to_numpy(dtype=float), self.fast, self.slow, self.signal)
        return sign_of_difference(line, signal)

    def stepper(self) -> Stepper:
        indicator = MACD(self.fast, self.slow, self.signal)

        class _Step:
            def update(self, bar: Bar) -> float | None:
                value = indicator.update(bar.close)
                return None if value is None or value[1] is None else sign_of(value[0], value[1])

        return _Step()


@dataclass(frozen=True)
class BollingerSignal:
    """Mean reversion: +1 below the lower band, -1 above the upper band, 0 inside."""

    period: int = 20
    width: float = 2.0
    name: str = "bollinger"

    @property
    def warmup(self) -> int:
        return self.period

    def compute(self, candles: pd.DataFrame) -> Array:
        close = candles["close"].to_numpy(dtype=float)
        _, upper, lower = bollinger(close, self.period, self.width)
        out: Array = np.where(close < lower, 1.0, np.where(close > upper, -1.0, 0.0))
        return np.where(np.isnan(upper), np.nan, out)

    def stepper(self) -> Stepper:
        indicator = Bollinger(self.period, self.width)

        class _Step:
            def update(self, bar: Bar) -> float | None:
                value = indicator.update(bar.close)
                if value is None:
                    return None
                return 1.0 if bar.close < value[2] else -1.0 if bar.close > value[1] else 0.0

        return _Step()
