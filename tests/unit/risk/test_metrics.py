"""The guard metrics: one computation for a stretch of bars and for one reading at a time."""

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gpttrader.domain import BookLevel
from gpttrader.risk.metrics import (
    HOUR_NS,
    NS,
    EquityTracker,
    ErrorCount,
    ErrorRate,
    LossStreak,
    annualized_volatility,
    book_depth,
    correlated_exposure,
    liquidation_buffer_share,
)

START = int(datetime(2026, 1, 5, 22, tzinfo=UTC).timestamp()) * NS


def test_drawdown_and_period_losses_by_hand() -> None:
    # 22:00, 23:00, 23:30, 00:00 (a new day), 00:30
    times = np.array([0, 1, 1.5, 2, 2.5]) * HOUR_NS + START
    times = times.astype(np.int64)
    equity = np.array([1000.0, 900.0, 950.0, 800.0, 1100.0])
    out = EquityTracker(1000.0).update(times, equity)
    assert out["drawdown"].tolist() == pytest.approx([0.0, 0.1, 0.05, 0.2, 0.0])
    # the day started at 1000 (the start value); the next starts from 23:30's 950
    assert out["daily_loss"].tolist() == pytest.approx([0, 100, 50, 150, -150])
    # each hour starts from the last equity of the hour before
    assert out["hourly_loss"].tolist() == pytest.approx([0, 100, 50, 150, -150])
    # as shares of the equity each period opened with: 1000 for both at first, then 950
    assert out["daily_loss_share"].tolist() == pytest.approx([0, 0.1, 0.05, 150 / 950, -150 / 950])
    assert out["hourly_loss_share"].tolist() == pytest.approx([0, 0.1, 0.05, 150 / 950, -150 / 950])


@given(
    st.lists(st.floats(min_value=1, max_value=2000), min_size=2, max_size=60),
    st.lists(st.integers(min_value=1, max_value=3000), min_size=60, max_size=60),
    st.integers(min_value=1, max_value=59),
)
def test_a_stretch_at_once_equals_pieces_equals_one_at_a_time(values: list[float], gaps: list[int], cut: int) -> None:
    equity = np.array(values)
    times = (START + np.cumsum(gaps[: len(values)]) * 60 * NS).astype(np.int64)
    whole = EquityTracker(1000.0).update(times, equity)
    pieces = EquityTracker(1000.0)
    first, second = pieces.update(times[:cut], equity[:cut]), pieces.update(times[cut:], equity[cut:])
    single = EquityTracker(1000.0)
    each = [single.update(times[i : i + 1], equity[i : i + 1]) for i in range(len(values))]
    for metric in ("drawdown", "daily_loss", "daily_loss_share", "hourly_loss", "hourly_loss_share"):
        assert np.allclose(np.r_[first[metric], second[metric]], whole[metric])
        assert np.allclose([e[metric][0] for e in each], whole[metric])


def test_annualized_volatility_matches_the_formula() -> None:
    closes = np.array([100, 101, 99, 102, 103, 101.5])
    vol = annualized_volatility(closes, 3, 60)
    returns = np.diff(np.log(closes))
    expected = np.std(returns[-3:], ddof=1) * math.sqrt(365 * 24 * 60)
    assert np.isnan(vol[:3]).all()  # three returns need four closes
    assert vol[-1] == pytest.approx(expected)


def test_correlated_exposure() -> None:
    half = np.array([0.5])
    assert correlated_exposure({"A": np.array([-0.7])}, {}) == pytest.approx(0.7)
    assert correlated_exposure({"A": half, "B": half}, {("A", "B"): np.array([1.0])}) == pytest.approx(1.0)
    assert correlated_exposure({"A": half, "B": -half}, {("A", "B"): np.array([1.0])}) == pytest.approx(0.0)
    assert correlated_exposure({"A": half, "B": half}, {("A", "B"): np.array([0.0])}) == pytest.approx(math.sqrt(0.5))
    assert correlated_exposure({"A": half, "B": half}, {("A", "B"): np.array([np.nan])}) == pytest.approx(1.0)


def test_loss_streak_resets_on_a_win() -> None:
    streak = LossStreak()
    assert streak.update([-1, -2, 5, -1]).tolist() == [1, 2, 0, 1]
    assert streak.update([-3, 0]).tolist() == [2, 0]


def test_error_rate_needs_a_full_window() -> None:
    rate = ErrorRate(4)
    assert all(math.isnan(rate.record(ok)) for ok in (False, False, True))
    assert rate.record(True) == 0.5
    assert rate.record(False) == 0.5  # the oldest failure left the window: F T T F
    assert rate.record(False) == 0.5  # T T F F
    assert rate.record(False) == 0.75  # T F F F


def test_error_count_forgets_after_its_window() -> None:
    count = ErrorCount(60)
    t = datetime(2026, 1, 1, tzinfo=UTC)
    assert count.record(t, error=True) == 1
    assert count.record(t + timedelta(seconds=30), error=True) == 2
    assert count.record(t + timedelta(seconds=59), error=False) == 2
    assert count.record(t + timedelta(seconds=60), error=False) == 1


def test_book_depth_and_liquidation_buffer() -> None:
    asks = [BookLevel(D(100), D(2)), BookLevel(D("100.5"), D(1)), BookLevel(D("100.51"), D(9))]
    assert book_depth(asks, D(100), D(50)) == D("300.5")  # 100.51 is beyond 50 bps
    assert liquidation_buffer_share(D(7200), D(48000)) == D("0.15")
    assert liquidation_buffer_share(D(1), D(0)) == 0
