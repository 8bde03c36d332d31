from datetime import UTC, datetime

import numpy as np
import pytest

from gpttrader.marketdata import SyntheticSpec, synthetic_candles

START = datetime(2026, 1, 1, tzinfo=UTC)


def test_same_seed_same_candles_other_seed_other_candles() -> None:
    spec = SyntheticSpec("BTC-USD", 95_000.0)
    a = synthetic_candles(spec, START, 2_000, seed=1)
    assert a.equals(synthetic_candles(spec, START, 2_000, seed=1))
    assert not a["close"].equals(synthetic_candles(spec, START, 2_000, seed=2)["close"])


def test_candles_are_valid_and_continuous() -> None:
    df = synthetic_candles(SyntheticSpec("ETH-USD", 3_500.0), START, 10_000, seed=3)
    assert list(df.columns) == ["time", "open", "high", "low", "close", "volume"]
    assert df["time"].is_monotonic_increasing
    assert df["time"].is_unique
    assert (df["time"].diff().dropna() == np.timedelta64(60, "s")).all()
    assert (df["high"] >= df[["open", "close"]].max(axis=1)).all()
    assert (df["low"] <= df[["open", "close"]].min(axis=1)).all()
    assert (df["low"] > 0).all()
    assert (df["volume"] > 0).all()
    assert (df["open"].iloc[1:].to_numpy() == df["close"].iloc[:-1].to_numpy()).all()
    assert df["open"].iloc[0] == 3_500.0


def test_volatility_is_in_the_configured_range() -> None:
    spec = SyntheticSpec("BTC-USD", 95_000.0)
    df = synthetic_candles(spec, START, 60 * 24 * 60, seed=4)
    annual = float(np.log(df["close"]).diff().std()) * np.sqrt(365 * 24 * 60)
    assert spec.annual_vol_quiet * 0.8 < annual < spec.annual_vol_volatile


def test_volume_follows_the_intraday_pattern() -> None:
    df = synthetic_candles(SyntheticSpec("BTC-USD", 95_000.0), START, 30 * 24 * 60, seed=5)
    by_hour = df.groupby(df["time"].dt.hour)["volume"].mean()
    assert by_hour[15] > 1.5 * by_hour[3]


def test_bad_arguments() -> None:
    spec = SyntheticSpec("BTC-USD", 1.0)
    with pytest.raises(ValueError, match="minutes must be positive"):
        synthetic_candles(spec, START, 0, seed=1)
    with pytest.raises(ValueError, match="on a minute boundary"):
        synthetic_candles(spec, START.replace(second=5), 10, seed=1)
