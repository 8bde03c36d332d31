"""Indicators: known values, and the vectorized and bar-by-bar forms agreeing on real-looking data."""

import math
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpttrader.marketdata import SyntheticSpec, synthetic_candles
from gpttrader.strategy import ATR, EMA, MACD, RSI, SMA, Bollinger, atr, bollinger, ema, macd, rsi, sma
from gpttrader.strategy.indicators import sign_of, sign_of_difference


@pytest.fixture(scope="module")
def candles() -> pd.DataFrame:
    return synthetic_candles(SyntheticSpec("BTC-USD", 95_000.0), datetime(2026, 1, 1, tzinfo=UTC), 3_000, seed=11)


def run(indicator: object, *columns: np.ndarray) -> list[object]:
    update = indicator.update  # type: ignore[attr-defined]
    return [update(*row) for row in zip(*columns, strict=True)]


def same(vectorized: np.ndarray, incremental: list[float | None]) -> None:
    as_array = np.array([np.nan if v is None else v for v in incremental], dtype=float)
    np.testing.assert_array_equal(np.isnan(vectorized), np.isnan(as_array))
    np.testing.assert_allclose(vectorized, as_array, rtol=1e-9, equal_nan=True)


@pytest.mark.parametrize("n", [1, 5, 20, 200])
def test_sma_and_ema_agree(candles: pd.DataFrame, n: int) -> None:
    close = candles["close"].to_numpy()
    same(sma(close, n), run(SMA(n), close))
    same(ema(close, n), run(EMA(n), close))


@pytest.mark.parametrize("n", [2, 14, 30])
def test_rsi_and_atr_agree(candles: pd.DataFrame, n: int) -> None:
    close, high, low = (candles[c].to_numpy() for c in ("close", "high", "low"))
    same(rsi(close, n), run(RSI(n), close))
    same(atr(high, low, close, n), run(ATR(n), high, low, close))


def test_macd_and_bollinger_agree(candles: pd.DataFrame) -> None:
    close = candles["close"].to_numpy()
    vector = macd(close, 12, 26, 9)
    stepwise = run(MACD(12, 26, 9), close)
    for i in range(3):
        same(vector[i], [None if v is None else v[i] for v in stepwise])  # type: ignore[index]
    assert int(np.argmax(~np.isnan(vector[0]))) == 25  # the line from the slow EMA's first value
    assert int(np.argmax(~np.isnan(vector[1]))) == 33  # the signal 8 bars later
    bands = bollinger(close, 20, 2.0)
    stepwise = run(Bollinger(20, 2.0), close)
    for i in range(3):
        same(bands[i], [None if v is None else v[i] for v in stepwise])  # type: ignore[index]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(min_value=1, max_value=1e6, allow_nan=False), min_size=1, max_size=120),
    st.integers(min_value=1, max_value=30),
)
def test_agreement_on_any_series(values: list[float], n: int) -> None:
    series = np.array(values)
    same(sma(series, n), run(SMA(n), series))
    same(ema(series, n), run(EMA(n), series))
    same(rsi(series, n), run(RSI(n), series))


def test_known_values() -> None:
    np.testing.assert_allclose(sma([1, 2, 3, 4], 2), [np.nan, 1.5, 2.5, 3.5], equal_nan=True)
    # EMA(3): seeded with mean(1, 2, 3) = 2, then alpha 0.5: 0.5 * 4 + 0.5 * 2 = 3, 0.5 * 10 + 0.5 * 3 = 6.5
    np.testing.assert_allclose(ema([1, 2, 3, 4, 10], 3), [np.nan, np.nan, 2, 3, 6.5], equal_nan=True)
    assert rsi(np.arange(1.0, 30.0), 14)[-1] == 100.0
    assert rsi(np.arange(30.0, 1.0, -1), 14)[-1] == 0.0
    assert rsi(np.full(30, 5.0), 14)[-1] == 50.0
    mid, upper, lower = bollinger([1, 3, 1, 3], 2, 2.0)
    np.testing.assert_allclose(mid[1:], [2.0, 2.0, 2.0])
    np.testing.assert_allclose(upper[1:], [4.0, 4.0, 4.0])
    np.testing.assert_allclose(lower[1:], [0.0, 0.0, 0.0])
    # A constant 2-point range with no gaps: ATR is 2 from its first value on.
    np.testing.assert_allclose(atr([3, 3, 3, 3], [1, 1, 1, 1], [2, 2, 2, 2], 2)[1:], [2, 2, 2])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: sma([1, 2], 0), "period must be a whole number >= 1, got 0"),
        (lambda: EMA(-3), "period must be a whole number >= 1, got -3"),
        (lambda: macd([1, 2, 3], 26, 12), r"fast \(26\) must be shorter than slow \(12\)"),
        (lambda: MACD(5, 5), r"fast \(5\) must be shorter than slow \(5\)"),
    ],
)
def test_bad_periods(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    ("a", "b"),
    [(1.0, 2.0), (2.0, 1.0), (100.0, 100.0 + 1e-8), (100.0, 100.1), (0.0, 0.0), (-3.0, -3.0), (math.nan, 1.0)],
)
def test_the_scalar_sign_is_the_vectorized_one(a: float, b: float) -> None:
    """The incremental forms' `sign_of` and the vectorized `sign_of_difference` agree, ties and NaN included:
    a crossing is the same bar in the backtest and live."""
    expected = float(sign_of_difference(a, b))
    got = sign_of(a, b)
    assert (math.isnan(got) and math.isnan(expected)) or got == expected
