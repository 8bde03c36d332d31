from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from gpttrader.domain import Granularity
from gpttrader.marketdata import CandleCache, CandleFileError, load_candles
from gpttrader.marketdata.frames import between, gaps, merge, resample

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def minutes(values: list[float], start: datetime = T0) -> pd.DataFrame:
    times = pd.date_range(start, periods=len(values), freq="1min", tz="UTC")
    return pd.DataFrame(
        {
            "time": times,
            "open": values,
            "high": [v + 1 for v in values],
            "low": [v - 1 for v in values],
            "close": values,
            "volume": 1.0,
        }
    )


def test_granularity_parse() -> None:
    assert Granularity.parse("FIVE_MINUTE") is Granularity.FIVE_MINUTE
    assert Granularity.parse(3600) is Granularity.ONE_HOUR
    with pytest.raises(ValueError, match=r"granularity '1m' is not one of ONE_MINUTE \(60s\), FIVE_MINUTE"):
        Granularity.parse("1m")


def test_resample_ohlcv() -> None:
    frame = minutes([10, 12, 11, 13, 9, 20])
    five = resample(frame, Granularity.FIVE_MINUTE)
    assert list(five["time"]) == [pd.Timestamp(T0), pd.Timestamp(T0 + timedelta(minutes=5))]
    first = five.iloc[0]
    assert (first.open, first.high, first.low, first.close, first.volume) == (10, 14, 8, 9, 5.0)


def test_merge_dedupes_newest_wins_and_gaps_are_found() -> None:
    old = minutes([1, 2, 3])
    new = minutes([30, 40], start=T0 + timedelta(minutes=2))
    merged = merge(old, new)
    assert list(merged["close"]) == [1, 2, 30, 40]
    holey = pd.concat([minutes([1, 2]), minutes([5], start=T0 + timedelta(minutes=5))], ignore_index=True)
    assert gaps(holey, Granularity.ONE_MINUTE) == [(T0 + timedelta(minutes=2), T0 + timedelta(minutes=4))]
    assert len(between(merged, T0 + timedelta(minutes=1), T0 + timedelta(minutes=3))) == 2


def test_cache_round_trip_and_atomic_replace(tmp_path: Path) -> None:
    cache = CandleCache(tmp_path)
    assert cache.read("BTC-USD", Granularity.ONE_MINUTE).empty
    path = cache.write("BTC-USD", Granularity.ONE_MINUTE, minutes([1, 2, 3]))
    assert path == tmp_path / "BTC-USD" / "ONE_MINUTE.parquet"
    cache.write("BTC-USD", Granularity.ONE_MINUTE, minutes([4, 5]))
    assert list(cache.read("BTC-USD", Granularity.ONE_MINUTE)["close"]) == [4, 5]
    assert [p.name for p in path.parent.iterdir()] == ["ONE_MINUTE.parquet"]  # no temporary left behind


def test_load_sample_resampled_and_sliced() -> None:
    start, end = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 2, tzinfo=UTC)
    hourly = load_candles("ETH-USD", "ONE_HOUR", start=start, end=end, data_dir=ROOT / "data")
    assert len(hourly) == 24
    minute = load_candles("ETH-USD", start=start, end=end, data_dir=ROOT / "data")
    assert hourly["volume"].sum() == pytest.approx(minute["volume"].sum())
    assert hourly["high"].max() == minute["high"].max()


def test_load_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(CandleFileError, match="no sample data for 'DOGE-USD'; samples: BTC-USD, ETH-USD, SOL-USD"):
        load_candles("DOGE-USD", data_dir=ROOT / "data")
    with pytest.raises(CandleFileError, match="no cached ONE_MINUTE candles for BTC-USD .*fetch them first"):
        load_candles("BTC-USD", source="cache", data_dir=tmp_path)
    hourly = resample(minutes([100.0 + i for i in range(180)]), Granularity.ONE_HOUR)
    hourly.to_csv(tmp_path / "hourly.csv", index=False)
    with pytest.raises(CandleFileError, match="coarser than ONE_MINUTE"):
        load_candles("X-USD", source=tmp_path / "hourly.csv", data_dir=tmp_path)
    assert len(load_candles("X-USD", "ONE_HOUR", source=tmp_path / "hourly.csv", data_dir=tmp_path)) == 3
    with pytest.raises(CandleFileError, match="no X-USD candles between"):
        load_candles(
            "X-USD", "ONE_HOUR", source=tmp_path / "hourly.csv", start=T0 + timedelta(days=9), data_dir=tmp_path
        )
