"""The numbers the runtime guards watch, each computed one way for both venues: over a float series,
with what came before carried in a small state, so that the live loop (one value a cycle) and the backtest
(a stretch of bars at a time) get the same figure for the same history."""

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np

from gpttrader.domain import BookLevel

NS = 1_000_000_000
HOUR_NS = 3600 * NS
DAY_NS = 24 * HOUR_NS
YEAR_SECONDS = 365 * 24 * 3600

DEPTH_BAND_BPS = Decimal(50)  # the depth guard reads the quote value resting this close to the mid


@dataclass(frozen=True)
class MetricWindows:
    """How far back the windowed metrics look."""

    volatility: int = 20
    correlation: int = 240
    error_rate: int = 20
    api_error_seconds: int = 300


@dataclass
class _Period:
    index: int = -1
    start: float = math.nan


@dataclass
class EquityTracker:
    """Drawdown from the peak, and loss since the start of the UTC day and of the hour, in the quote currency
    (`daily_loss`, `hourly_loss`) and as a share of the equity the period started with (`..._share`).

    A period's loss is measured from the equity at the end of the previous period (the start value for the
    first one), marked to market, fees included; a gain is a negative loss.
    """

    last: float
    peak: float = math.nan

    def __post_init__(self) -> None:
        self.peak = self.last if math.isnan(self.peak) else self.peak
        self._day = _Period()
        self._hour = _Period()

    def update(self, times_ns: np.ndarray, equity: np.ndarray) -> dict[str, np.ndarray]:
        if len(equity) == 0:
            return dict.fromkeys(
                ("drawdown", "daily_loss", "daily_loss_share", "hourly_loss", "hourly_loss_share"), equity
            )
        peak = np.maximum.accumulate(np.r_[self.peak, equity])[1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            drawdown = np.where(peak > 0, 1.0 - equity / peak, 0.0)
        previous = np.r_[self.last, equity[:-1]]
        daily, day_start = _period_loss(times_ns // DAY_NS, equity, previous, self._day)
        hourly, hour_start = _period_loss(times_ns // HOUR_NS, equity, previous, self._hour)
        self.peak, self.last = float(peak[-1]), float(equity[-1])
        return {
            "drawdown": drawdown,
            "daily_loss": daily,
            "daily_loss_share": _share(daily, day_start),
            "hourly_loss": hourly,
            "hourly_loss_share": _share(hourly, hour_start),
        }


def _period_loss(
    period: np.ndarray, equity: np.ndarray, previous: np.ndarray, state: _Period
) -> tuple[np.ndarray, np.ndarray]:
    """The loss at each point and the equity its period started with."""
    starts_here = period != np.r_[state.index, period[:-1]]
    start = np.where(starts_here, previous, np.nan)
    if not starts_here[0]:
        start[0] = state.start
    known = np.where(~np.isnan(start), np.arange(len(start)), 0)
    start = start[np.maximum.accumulate(known)]
    state.index, state.start = int(period[-1]), float(start[-1])
    return np.asarray(start - equity, dtype=float), start


def _share(loss: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Loss over the period's opening equity; an account that opened with nothing has no share (0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(start > 0, loss / start, 0.0), dtype=float)


def annualized_volatility(closes: np.ndarray, window: int, bar_seconds: float) -> np.ndarray:
    """Standard deviation of log returns over the last `window` returns, annualized; NaN until defined.

    Rolling sums instead of pandas: the same figure for a million bars in a backtest and for the last few in
    the live loop, which therefore never loads pandas."""
    prices = np.asarray(closes, dtype=float)
    out = np.full(len(prices), np.nan)
    returns = np.diff(np.log(prices))
    if window < 2 or len(returns) < window:
        return out
    first = np.cumsum(np.r_[0.0, returns])
    second = np.cumsum(np.r_[0.0, returns**2])
    total = first[window:] - first[:-window]
    squares = second[window:] - second[:-window]
    variance = np.maximum((squares - total**2 / window) / (window - 1), 0.0)
    out[window:] = np.sqrt(variance) * math.sqrt(YEAR_SECONDS / bar_seconds)
    return out


def rolling_correlations(closes: Mapping[str, np.ndarray], window: int) -> dict[tuple[str, str], np.ndarray]:
    """Pairwise correlation of log returns over the last `window` returns, for series on one time grid."""
    import pandas as pd  # a backtest's: the live loop never computes correlations over history

    returns = {pid: pd.Series(np.log(np.asarray(c, dtype=float))).diff() for pid, c in closes.items()}
    names = sorted(returns)
    return {
        (a, b): returns[a].rolling(window, min_periods=window).corr(returns[b]).to_numpy()
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    }


def correlated_exposure(
    weights: Mapping[str, np.ndarray], correlations: Mapping[tuple[str, str], np.ndarray]
) -> np.ndarray:
    """sqrt(w' C w) for signed position weights (notional over equity): one product's weight counts whole,
    two correlated ones add up, offsetting ones cancel. An unknown correlation counts as 1, the worst case."""
    names = sorted(weights)
    total = sum(weights[n] ** 2 for n in names)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            rho = correlations.get((a, b))
            rho = np.ones_like(weights[a]) if rho is None else np.nan_to_num(rho, nan=1.0)
            total = total + 2 * weights[a] * weights[b] * rho
    return np.asarray(np.sqrt(np.maximum(np.asarray(total, dtype=float), 0.0)), dtype=float)


@dataclass
class LossStreak:
    """Closed trades lost in a row; a winning (or break-even) trade ends the streak."""

    count: int = 0

    def update(self, pnls: Iterable[float]) -> np.ndarray:
        counts = []
        for pnl in pnls:
            self.count = self.count + 1 if pnl < 0 else 0
            counts.append(self.count)
        return np.array(counts, dtype=float)


class ErrorRate:
    """The failed share of the last `window` broker calls; undefined (NaN) until the window is full, so that
    one early failure is not a 100% error rate."""

    def __init__(self, window: int) -> None:
        self._calls: deque[bool] = deque(maxlen=window)

    def record(self, ok: bool) -> float:
        self._calls.append(ok)
        if len(self._calls) < (self._calls.maxlen or 0):
            return math.nan
        return self._calls.count(False) / len(self._calls)


class ErrorCount:
    """Broker errors within the last `seconds`."""

    def __init__(self, seconds: int) -> None:
        self._seconds = seconds
        self._times: deque[datetime] = deque()

    def record(self, at: datetime, *, error: bool) -> int:
        if error:
            self._times.append(at)
        while self._times and (at - self._times[0]).total_seconds() >= self._seconds:
            self._times.popleft()
        return len(self._times)


def mark_age_seconds(now: datetime, mark_time: datetime) -> float:
    return (now - mark_time).total_seconds()


def book_depth(levels: Sequence[BookLevel], mid: Decimal, within_bps: Decimal = Decimal(50)) -> Decimal:
    """Quote notional resting within `within_bps` of the mid on one side of the book."""
    reach = mid * within_bps / Decimal(10_000)
    return sum((level.price * level.size for level in levels if abs(level.price - mid) <= reach), Decimal(0))


def liquidation_buffer_share(buffer_amount: Decimal, equity: Decimal) -> Decimal:
    """Margin left before liquidation as a share of equity (Coinbase's CFM liquidation_buffer_amount)."""
    return buffer_amount / equity if equity > 0 else Decimal(0)
