"""The shipped sample data is what its documented generator makes, and is usable as it is."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gpttrader.marketdata import read_candle_file
from gpttrader.marketdata.samples import SAMPLE_MINUTES, SAMPLE_START, SAMPLES, sample_candles, sample_file

SAMPLE_DIR = Path(__file__).resolve().parents[3] / "data" / "sample"


@pytest.mark.parametrize("product_id", sorted(SAMPLES))
def test_shipped_sample_is_a_valid_year_on_the_tick_grid(product_id: str) -> None:
    candles = read_candle_file(sample_file(SAMPLE_DIR, product_id))
    assert len(candles) == SAMPLE_MINUTES
    assert candles["time"].iloc[0] == pd.Timestamp(SAMPLE_START)
    assert (candles["time"].diff().dropna() == pd.Timedelta(minutes=1)).all()
    cents = candles[["open", "high", "low", "close"]].to_numpy() * 100
    assert np.allclose(cents, np.round(cents))
    assert 0.1 < candles["close"].iloc[-1] / candles["open"].iloc[0] < 10


@pytest.mark.slow
def test_the_generator_reproduces_the_shipped_file() -> None:
    shipped = read_candle_file(sample_file(SAMPLE_DIR, "SOL-USD"))
    regenerated = sample_candles("SOL-USD")
    pd.testing.assert_frame_equal(shipped, regenerated, check_dtype=False)


def test_unknown_sample() -> None:
    with pytest.raises(ValueError, match="no sample for 'DOGE-USD'; samples: BTC-USD, ETH-USD, SOL-USD"):
        sample_candles("DOGE-USD")
