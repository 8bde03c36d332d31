"""The market-regime detector: vectorized (the backtest) and bar by bar (live) give the same regimes,
a bar's regime depends on earlier bars only, and known series give the regimes they should."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from gpttrader.risk import MarketRegime, RegimeDetector, RegimeSettings, classify_regimes
from gpttrader.risk.regime import UNKNOWN, regime_of

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def walk(seed: int, count: int, drift: float = 0.0, noise: float = 0.01) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.asarray(100 * np.exp(np.cumsum(rng.normal(drift, noise, count))))


@pytest.mark.parametrize(
    ("seed", "settings"), [(1, RegimeSettings()), (2, RegimeSettings(7, 3)), (3, RegimeSettings(5, 9))]
)
def test_bar_by_bar_equals_vectorized(seed: int, settings: RegimeSettings) -> None:
    closes = np.r_[walk(seed, 500, 0.002), walk(seed + 10, 500, -0.002, 0.03) * 0.5, walk(seed + 20, 400)]
    codes = classify_regimes(closes, settings)
    detector = RegimeDetector(settings)
    live = [detector.update(T0 + timedelta(minutes=i), float(c)) for i, c in enumerate(closes)]
    assert live == [regime_of(int(c)) for c in codes]
    assert (codes[: settings.lookback - 1] == UNKNOWN).all()
    assert codes[settings.lookback - 1] != UNKNOWN
    assert len({int(c) for c in codes}) >= 4  # a test of many regimes, not of one


def test_a_start_history_at_once_gives_what_bars_one_by_one_give() -> None:
    closes = walk(4, 600, 0.001)
    times = [T0 + timedelta(minutes=i) for i in range(600)]
    at_once, one_by_one = RegimeDetector(RegimeSettings()), RegimeDetector(RegimeSettings())
    at_once.extend(times[:400], closes[:400].tolist())
    for at, close in zip(times[:400], closes[:400], strict=True):
        one_by_one.update(at, float(close))
    assert at_once.regime == one_by_one.regime
    # an overlapping bar (the warm-up after the seed's history) is ignored
    assert at_once.update(times[10], 1e9) == one_by_one.regime
    for at, close in zip(times[400:], closes[400:], strict=True):
        assert at_once.update(at, float(close)) == one_by_one.update(at, float(close))


def test_no_look_ahead() -> None:
    closes = walk(5, 800, 0.001)
    codes = classify_regimes(closes, RegimeSettings())
    changed = closes.copy()
    changed[500:] = changed[500:] * np.linspace(0.5, 3.0, 300)  # another future from bar 500 on
    assert (classify_regimes(changed, RegimeSettings())[:500] == codes[:500]).all()
    for end in (221, 300, 499):
        assert classify_regimes(closes[: end + 1], RegimeSettings())[-1] == codes[end]


def test_known_series() -> None:
    """Quiet noise for 400 bars then, each for 300 bars: a steady rise, a steady fall, flat noise, and
    flat noise five times as wild. The trend needs its window to fill and the volatility's history judges
    the wild stretch volatile only while it is new, so each stretch is judged on its later half."""
    settings = RegimeSettings(trend_bars=50, volatility_bars=20)
    quiet = 0.002
    steps = np.r_[
        np.random.default_rng(6).normal(0, quiet, 400),
        np.random.default_rng(7).normal(0.003, quiet, 300),
        np.random.default_rng(8).normal(-0.003, quiet, 300),
        np.random.default_rng(9).normal(0, quiet, 300),
        np.random.default_rng(10).normal(0, 5 * quiet, 100),
    ]
    regimes = [regime_of(int(c)) for c in classify_regimes(100 * np.exp(np.cumsum(steps)), settings)]

    def share(start: int, stop: int, *wanted: MarketRegime) -> float:
        return sum(r in wanted for r in regimes[start:stop]) / (stop - start)

    assert share(550, 700, MarketRegime.BULL_QUIET, MarketRegime.BULL_VOLATILE) > 0.95
    assert share(850, 1000, MarketRegime.BEAR_QUIET, MarketRegime.BEAR_VOLATILE) > 0.95
    sideways = (MarketRegime.SIDEWAYS_QUIET, MarketRegime.SIDEWAYS_VOLATILE)
    assert share(1150, 1300, *sideways, MarketRegime.BULL_QUIET, MarketRegime.BEAR_QUIET) > 0.95
    assert share(1150, 1300, *sideways) > 0.6
    assert (
        share(1320, 1400, MarketRegime.SIDEWAYS_VOLATILE, MarketRegime.BULL_VOLATILE, MarketRegime.BEAR_VOLATILE) > 0.95
    )


def test_a_flat_price_is_sideways_and_quiet() -> None:
    codes = classify_regimes(np.full(300, 50.0), RegimeSettings())
    assert regime_of(int(codes[-1])) is MarketRegime.SIDEWAYS_QUIET
