"""The market regime of a product from its own bars: bull, sideways or bear, each quiet or volatile.

- Trend: the log return over the last `trend_bars` bars against what noise alone would give over that
  span (the realized volatility times the square root of the span). Beyond one such unit up it is a bull
  market, beyond one down a bear market, sideways in between. Measured against the product's own noise,
  the same threshold serves one-minute and daily bars.
- Volatility: the realized volatility of the last `volatility_bars` bar returns against its own history,
  the ten windows of as many bars before it: above their median with it (above at least six of them),
  volatile. Disjoint windows, so that the history is ten independent readings, not one smeared reading.

`classify_regimes` computes every bar's regime of a whole series at once (the backtest); `RegimeDetector` keeps
the last bars a regime needs and classifies each new bar with the same function (live), so that both
give the same regimes bar for bar. A bar's regime depends on its close and earlier ones only. Every window
sum is taken in the same order whatever the series' length, so the results are identical, not merely
close; the history is compared, never averaged.
"""

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from gpttrader.config.models import SizingConfig
from gpttrader.domain import MarketRegime

# Code c = 2 x trend (0 bull, 1 sideways, 2 bear) + volatile; -1 while the history is too short.
REGIMES = (
    MarketRegime.BULL_QUIET,
    MarketRegime.BULL_VOLATILE,
    MarketRegime.SIDEWAYS_QUIET,
    MarketRegime.SIDEWAYS_VOLATILE,
    MarketRegime.BEAR_QUIET,
    MarketRegime.BEAR_VOLATILE,
)
UNKNOWN = -1
TREND_UNITS = 1.0  # how many noise units of return make a trend
HISTORY_WINDOWS = 10  # the volatility's history: this many of its own windows before it


@dataclass(frozen=True, slots=True)
class RegimeSettings:
    trend_bars: int = 50
    volatility_bars: int = 20

    def __post_init__(self) -> None:
        if self.trend_bars < 2 or self.volatility_bars < 2:
            raise ValueError(f"regime windows need at least 2 bars, got {self.trend_bars}, {self.volatility_bars}")

    @classmethod
    def of(cls, sizing: SizingConfig) -> "RegimeSettings":
        return cls(sizing.regime_trend_bars, sizing.regime_volatility_bars)

    @property
    def lookback(self) -> int:
        """The closes the regime of the last one needs (itself included)."""
        return max((HISTORY_WINDOWS + 1) * self.volatility_bars + 1, self.trend_bars + 1)


def regime_of(code: int) -> MarketRegime | None:
    return None if code == UNKNOWN else REGIMES[code]


def classify_regimes(closes: np.ndarray, settings: RegimeSettings) -> np.ndarray:
    """The regime code of every bar (int8, UNKNOWN until enough bars), from the closes up to it."""
    closes = np.asarray(closes, dtype=float)
    count = len(closes)
    codes = np.full(count, UNKNOWN, dtype=np.int8)
    if count < settings.lookback:
        return codes
    log_close = np.log(closes)
    returns = np.full(count, np.nan)
    returns[1:] = log_close[1:] - log_close[:-1]
    volatility = np.sqrt(_window_sum(returns * returns, settings.volatility_bars) / settings.volatility_bars)
    n = settings.trend_bars
    move = np.full(count, np.nan)
    move[n:] = log_close[n:] - log_close[:-n]
    noise = volatility * np.sqrt(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        units = np.where(noise > 0, move / noise, 0.0)
    trend = np.where(units > TREND_UNITS, 0, np.where(units < -TREND_UNITS, 2, 1))
    window = settings.volatility_bars
    calmer = np.zeros(count, dtype=np.int64)  # how many of the earlier windows were calmer
    for k in range(1, HISTORY_WINDOWS + 1):
        calmer[k * window :] += volatility[k * window :] > volatility[: count - k * window]
    volatile = calmer > HISTORY_WINDOWS // 2
    known = np.zeros(count, dtype=bool)
    known[HISTORY_WINDOWS * window :] = ~np.isnan(volatility[: count - HISTORY_WINDOWS * window])
    known &= ~np.isnan(move)
    codes[known] = (2 * trend + volatile)[known]
    return codes


def _window_sum(values: np.ndarray, window: int) -> np.ndarray:
    """The sum of each bar's last `window` values (NaN before), added in the same order for every bar."""
    out = np.full(len(values), np.nan)
    width = len(values) - window + 1
    if width <= 0:
        return out
    total = values[:width].copy()
    for offset in range(1, window):
        total += values[offset : offset + width]
    out[window - 1 :] = total
    return out


class RegimeDetector:
    """One product's regime, bar by bar: the last `lookback` closes classified as `classify_regimes` would."""

    def __init__(self, settings: RegimeSettings) -> None:
        self.settings = settings
        self._closes: deque[float] = deque(maxlen=settings.lookback)
        self._last: datetime | None = None
        self.regime: MarketRegime | None = None

    def update(self, at: datetime, close: float) -> MarketRegime | None:
        """Add a closed bar (a bar at or before the last one seen is ignored: the warm-up and the seed's
        history overlap); returns the regime after it."""
        return self.extend([at], [close])

    def extend(self, times: Sequence[datetime], closes: Sequence[float]) -> MarketRegime | None:
        """Add closed bars, oldest first (a start's history at once); returns the regime after the last."""
        fresh = [(at, close) for at, close in zip(times, closes, strict=True) if self._last is None or at > self._last]
        if not fresh:
            return self.regime
        self._last = fresh[-1][0]
        self._closes.extend(close for _, close in fresh)
        self.regime = regime_of(int(classify_regimes(np.fromiter(self._closes, dtype=float), self.settings)[-1]))
        return self.regime
