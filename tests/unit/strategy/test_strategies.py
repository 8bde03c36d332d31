"""Strategies decide the same bar by bar as over a whole history, and refuse bad parameters."""

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gpttrader.marketdata import SyntheticSpec, load_candles, synthetic_candles
from gpttrader.strategy import (
    BollingerSignal,
    EnsembleStrategy,
    MACDSignal,
    MACDTrend,
    MomentumFilter,
    MovingAverageCross,
    MovingAverageCrossSignal,
    RSIMeanReversion,
    RSISignal,
    Strategy,
    TrendFilter,
    VolumeFilter,
    Voter,
    bars,
)


@pytest.fixture(scope="module")
def candles() -> pd.DataFrame:
    return synthetic_candles(SyntheticSpec("ETH-USD", 3_500.0), datetime(2026, 2, 1, tzinfo=UTC), 4_000, seed=5)


SIGNALS = (MovingAverageCrossSignal(5, 20), RSISignal(14, 35, 65), MACDSignal(), BollingerSignal(20, 1.5))
STRATEGIES: list[Strategy] = [
    MovingAverageCross(10, 30),
    MovingAverageCross(5, 50, allow_short=True),
    RSIMeanReversion(14, 30, 55),
    MACDTrend(),
    MACDTrend(allow_short=True),
    EnsembleStrategy(SIGNALS, Voter("weighted", threshold=0.25)),
    EnsembleStrategy(SIGNALS, Voter("majority"), allow_short=True),
    EnsembleStrategy(SIGNALS[:2], Voter("unanimous")),
    EnsembleStrategy(
        SIGNALS,
        Voter("weighted", (2, 1, 1, 1), 0.2),
        (VolumeFilter(20, 0.8), TrendFilter(100), MomentumFilter(15)),
        scale_by_confidence=True,
    ),
]


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: f"{s.name}")
def test_bar_by_bar_equals_vectorized(strategy: Strategy, candles: pd.DataFrame) -> None:
    vectorized = strategy.targets(candles)
    state = strategy.new_state()
    stepped = np.array([strategy.on_bar(bar, state).target for bar in bars(candles, "ETH-USD")])
    np.testing.assert_allclose(stepped, vectorized, atol=1e-12)
    assert len(np.unique(vectorized)) > 1, "the strategy never changed its mind on 4000 bars"
    assert (vectorized[: strategy.warmup - 1] == 0).all()


def test_signals_agree_bar_by_bar(candles: pd.DataFrame) -> None:
    for signal in SIGNALS:
        vectorized = signal.compute(candles)
        stepper = signal.stepper()
        stepped = np.array([np.nan if (v := stepper.update(bar)) is None else v for bar in bars(candles, "X")])
        np.testing.assert_array_equal(np.isnan(vectorized), np.isnan(stepped))
        np.testing.assert_allclose(stepped, vectorized, equal_nan=True)
        assert set(np.unique(vectorized[~np.isnan(vectorized)])) <= {-1.0, 0.0, 1.0}


def test_voter_methods() -> None:
    matrix = np.array([[1, 1, -1], [1, -1, 0], [-1, -1, -1], [np.nan, 1, 1], [1, 0, 0]], dtype=float)
    direction, confidence = Voter("majority").vote(matrix)
    np.testing.assert_array_equal(direction, [1, 0, -1, 0, 0])
    np.testing.assert_allclose(confidence, [2 / 3, 0, 1, 0, 0])
    direction, _ = Voter("unanimous").vote(matrix)
    np.testing.assert_array_equal(direction, [0, 0, -1, 0, 0])
    direction, confidence = Voter("weighted", (2, 1, 1), threshold=0.5).vote(matrix)
    np.testing.assert_array_equal(direction, [1, 0, -1, 0, 1])
    np.testing.assert_allclose(confidence, [0.5, 0, 1, 0, 0.5])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: MovingAverageCross(30, 10), r"fast \(30\) must be below slow \(10\)"),
        (lambda: MovingAverageCross(10, 10), r"fast \(10\) must be below slow \(10\)"),
        (lambda: MovingAverageCross(0, 10), "fast must be a whole number >= 1, got 0"),
        (lambda: RSIMeanReversion(14, 60, 50), r"oversold \(60\) < exit_level \(50\)"),
        (lambda: RSISignal(14, 80, 20), r"oversold \(80\) < overbought \(20\)"),
        (lambda: Voter("plurality"), "method must be one of weighted, majority, unanimous"),  # type: ignore[arg-type]
        (lambda: Voter("weighted", (0, 0)), "weights must be >= 0 and not all zero"),
        (lambda: Voter(threshold=0), r"threshold must be in \(0, 1\]"),
        (lambda: EnsembleStrategy(()), "at least one signal"),
    ],
)
def test_bad_parameters(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]


def test_filters_can_be_switched_off(candles: pd.DataFrame) -> None:
    strict = EnsembleStrategy(SIGNALS, Voter("weighted", threshold=0.25), (TrendFilter(200),))
    off = EnsembleStrategy(SIGNALS, Voter("weighted", threshold=0.25), (TrendFilter(200, enabled=False),))
    plain = EnsembleStrategy(SIGNALS, Voter("weighted", threshold=0.25))
    np.testing.assert_array_equal(off.targets(candles), plain.targets(candles))
    assert (strict.targets(candles) != 0).sum() < (plain.targets(candles) != 0).sum()


def test_a_crossing_on_an_exact_tie_is_the_same_both_ways() -> None:
    """Cent prices make two averages equal in exact arithmetic; the vectorized and incremental sums then
    differ in the last bits, and the raw sign of the difference differed with them (found on SOL-USD)."""
    closes = [117.67] * 15 + [117.68, 117.66, 117.67, 117.69, 117.65, 117.67, 117.67, 117.67, 117.67, 117.67]
    frame = pd.DataFrame(
        {
            "time": pd.date_range("2025-03-01", periods=len(closes), freq="1min", tz="UTC"),
            "open": closes,
            "high": closes,
            "low": closes,
            "close": closes,
            "volume": 1.0,
        }
    )
    strategy = MovingAverageCross(5, 20)
    state = strategy.new_state()
    stepped = [strategy.on_bar(bar, state).target for bar in bars(frame, "SOL-USD")]
    assert stepped == strategy.targets(frame).tolist()
    signal = MovingAverageCrossSignal(5, 20).compute(frame)
    assert signal[-1] == 0  # both averages are exactly 117.67 at the end: a tie, not noise above or below
    sol = load_candles(
        "SOL-USD",
        "ONE_MINUTE",
        start=datetime(2025, 3, 1, tzinfo=UTC),
        end=datetime(2025, 3, 4, tzinfo=UTC),
        data_dir=Path(__file__).resolve().parents[3] / "data",
    )
    state = strategy.new_state()
    stepped = [strategy.on_bar(bar, state).target for bar in bars(sol, "SOL-USD")]
    assert stepped == strategy.targets(sol).tolist()  # row 2952 was such a tie
