"""Technical indicators, twice: vectorized over a history (for research and the backtest's fast path) and
incremental, one bar at a time (for the live loop). Both follow the same definitions, so a strategy
sees the same numbers in a backtest as live; the tests hold them to agreeing.

Conventions (TA-Lib's): an EMA is seeded with the simple average of its first `n` values; RSI and ATR
use Wilder's smoothing (an EMA with alpha 1/n), seeded the same way; Bollinger bands use the population
standard deviation. Values before an indicator has enough data are NaN (vectorized) or None
(incremental).
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    pass

Array = NDArray[np.float64]


def _check_period(n: int) -> None:
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"period must be a whole number >= 1, got {n!r}")


# Relative difference under which two values count as equal when their order is a signal.
TIE = 1e-9


def sign_of_difference(a: ArrayLike, b: ArrayLike) -> Array:
    """The sign of a - b, with a difference within a billionth of the values counted as a tie (0).

    The vectorized and the incremental forms of one average agree to the last few bits, not to all of
    them; where two averages are equal in exact arithmetic (prices on a cent grid make that common), the
    raw sign would flip on rounding noise and the backtest and the live loop would disagree on a crossing.
    """
    left, right = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    difference = left - right
    tie = np.abs(difference) <= TIE * np.maximum(np.abs(left), np.abs(right))
    return np.asarray(np.where(tie, 0.0, np.sign(difference)), dtype=float)


def sign_of(a: float, b: float) -> float:
    """`sign_of_difference` for two numbers, as the incremental forms call it on every bar: the same rule, in
    plain floats (the same IEEE arithmetic, so the same answer), without numpy's per-call cost."""
    difference = a - b
    if math.isnan(difference):
        return math.nan
    if abs(difference) <= TIE * max(abs(a), abs(b)):
        return 0.0
    return 1.0 if difference > 0 else -1.0


def sma(values: ArrayLike, n: int) -> Array:
    _check_period(n)
    import pandas as pd  # the vectorized forms only: the incremental ones below run live without pandas

    return pd.Series(np.asarray(values, dtype=float)).rolling(n).mean().to_numpy()


def _seeded_ewm(values: Array, n: int, alpha: float) -> Array:
    """e[n-1] = mean(values[:n]); e[t] = alpha * values[t] + (1 - alpha) * e[t-1]."""
    out = np.full(len(values), np.nan)
    if len(values) < n:
        return out
    seeded = values[n - 1 :].copy()
    seeded[0] = values[:n].mean()
    import pandas as pd

    out[n - 1 :] = pd.Series(seeded).ewm(alpha=alpha, adjust=False).mean().to_numpy()
    return out


def ema(values: ArrayLike, n: int) -> Array:
    _check_period(n)
    return _seeded_ewm(np.asarray(values, dtype=float), n, 2 / (n + 1))


def rsi(close: ArrayLike, n: int = 14) -> Array:
    _check_period(n)
    prices = np.asarray(close, dtype=float)
    out = np.full(len(prices), np.nan)
    if len(prices) <= n:
        return out
    change = np.diff(prices)
    gain = _seeded_ewm(np.clip(change, 0, None), n, 1 / n)
    loss = _seeded_ewm(np.clip(-change, 0, None), n, 1 / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(loss == 0, np.where(gain == 0, 50.0, 100.0), 100 - 100 / (1 + gain / loss))
    out[1:] = value
    return out


def macd(close: ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9) -> tuple[Array, Array, Array]:
    """MACD line (fast EMA - slow EMA), its signal line (an EMA of the line) and the histogram."""
    if fast >= slow:
        raise ValueError(f"fast ({fast}) must be shorter than slow ({slow})")
    prices = np.asarray(close, dtype=float)
    line = ema(prices, fast) - ema(prices, slow)
    signal_line = np.full(len(prices), np.nan)
    valid = ~np.isnan(line)
    if valid.any():
        signal_line[valid] = ema(line[valid], signal)
    return line, signal_line, line - signal_line


def bollinger(close: ArrayLike, n: int = 20, k: float = 2.0) -> tuple[Array, Array, Array]:
    """Middle band (SMA), upper and lower bands at k population standard deviations."""
    _check_period(n)
    import pandas as pd

    series = pd.Series(np.asarray(close, dtype=float))
    mid = series.rolling(n).mean()
    width = series.rolling(n).std(ddof=0) * k
    return mid.to_numpy(), (mid + width).to_numpy(), (mid - width).to_numpy()


def atr(high: ArrayLike, low: ArrayLike, close: ArrayLike, n: int = 14) -> Array:
    """Average true range with Wilder's smoothing; the first bar's true range is its high - low."""
    _check_period(n)
    h, lo, c = (np.asarray(a, dtype=float) for a in (high, low, close))
    previous = np.r_[np.nan, c[:-1]]
    true_range = np.fmax(h - lo, np.fmax(np.abs(h - previous), np.abs(lo - previous)))
    return _seeded_ewm(true_range, n, 1 / n)


# -- incremental ------------------------------------------------------------------------------------------
class SMA:
    def __init__(self, n: int) -> None:
        _check_period(n)
        self.n = n
        self._window: deque[float] = deque(maxlen=n)
        self.value: float | None = None

    def update(self, x: float) -> float | None:
        window = self._window
        window.append(x)
        if self.value is not None or len(window) == self.n:
            # An exact sum of the window, not a running total, which would drift over millions of bars.
            self.value = math.fsum(window) / self.n
        return self.value


class _SeededEWM:
    def __init__(self, n: int, alpha: float) -> None:
        _check_period(n)
        self.n, self.alpha = n, alpha
        self._seed: list[float] = []
        self.value: float | None = None

    def update(self, x: float) -> float | None:
        if self.value is None:
            self._seed.append(x)
            if len(self._seed) == self.n:
                self.value = sum(self._seed) / self.n
        else:
            self.value = self.alpha * x + (1 - self.alpha) * self.value
        return self.value


class EMA(_SeededEWM):
    def __init__(self, n: int) -> None:
        super().__init__(n, 2 / (n + 1))


class RSI:
    def __init__(self, n: int = 14) -> None:
        self._gain = _SeededEWM(n, 1 / n)
        self._loss = _SeededEWM(n, 1 / n)
        self._previous: float | None = None
        self.value: float | None = None

    def update(self, close: float) -> float | None:
        if self._previous is not None:
            change = close - self._previous
            gain, loss = self._gain.update(max(change, 0.0)), self._loss.update(max(-change, 0.0))
            if gain is not None and loss is not None:
                self.value = (50.0 if gain == 0 else 100.0) if loss == 0 else 100 - 100 / (1 + gain / loss)
        self._previous = close
        return self.value


class MACD:
    def __init__(self, fast: int = 12, slow: int = 26, signal: int = 9) -> None:
        if fast >= slow:
            raise ValueError(f"fast ({fast}) must be shorter than slow ({slow})")
        self._fast, self._slow, self._signal = EMA(fast), EMA(slow), EMA(signal)
        self.value: tuple[float, float | None, float | None] | None = None

    def update(self, close: float) -> tuple[float, float | None, float | None] | None:
        """(line, signal, histogram): the line once the slow EMA has a value, the other two `signal` bars later."""
        fast, slow = self._fast.update(close), self._slow.update(close)
        if fast is None or slow is None:
            return None
        line = fast - slow
        signal = self._signal.update(line)
        self.value = (line, signal, None if signal is None else line - signal)
        return self.value


class Bollinger:
    def __init__(self, n: int = 20, k: float = 2.0) -> None:
        _check_period(n)
        self.n, self.k = n, k
        self._window: deque[float] = deque(maxlen=n)
        self.value: tuple[float, float, float] | None = None

    def update(self, close: float) -> tuple[float, float, float] | None:
        self._window.append(close)
        if len(self._window) == self.n:
            mean = math.fsum(self._window) / self.n
            width = math.sqrt(math.fsum((x - mean) ** 2 for x in self._window) / self.n) * self.k
            self.value = (mean, mean + width, mean - width)
        return self.value


class ATR:
    def __init__(self, n: int = 14) -> None:
        self._smooth = _SeededEWM(n, 1 / n)
        self._previous: float | None = None
        self.value: float | None = None

    def update(self, high: float, low: float, close: float) -> float | None:
        true_range = high - low
        if self._previous is not None:
            true_range = max(true_range, abs(high - self._previous), abs(low - self._previous))
        self._previous = close
        self.value = self._smooth.update(true_range)
        return self.value
