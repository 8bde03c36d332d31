from pathlib import Path

import pandas as pd
import pytest

from gpttrader.marketdata import CandleFileError, read_candle_file


def frame(rows: int = 5) -> pd.DataFrame:
    times = pd.date_range("2026-01-01", periods=rows, freq="1min", tz="UTC")
    return pd.DataFrame({"time": times, "open": 100.0, "high": 101.0, "low": 99.0, "close": 100.5, "volume": 2.0})


def test_parquet_and_csv_read_back(tmp_path: Path) -> None:
    data = frame()
    data.to_parquet(tmp_path / "c.parquet")
    data.to_csv(tmp_path / "c.csv", index=False)
    for name in ("c.parquet", "c.csv"):
        read = read_candle_file(tmp_path / name)
        assert list(read.columns) == ["time", "open", "high", "low", "close", "volume"]
        assert len(read) == 5
        assert str(read["time"].dt.tz) == "UTC"


@pytest.mark.parametrize(
    ("row", "change", "message"),
    [
        (3, {"time": pd.Timestamp("2026-01-01 00:01", tz="UTC")}, "row 3 .*: time is not after the previous row's"),
        (2, {"low": -1.0}, "row 2 .*: a price is not a positive number"),
        (4, {"high": 100.0}, "row 4 .*: high is below open or close"),
        (1, {"low": 100.6}, "row 1 .*: low is above open or close"),
        (0, {"volume": -0.1}, "row 0 .*: volume is negative"),
    ],
)
def test_the_first_bad_row_is_named(tmp_path: Path, row: int, change: dict[str, object], message: str) -> None:
    data = frame()
    for column, value in change.items():
        data.loc[row, column] = value
    data.to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(CandleFileError, match=message):
        read_candle_file(tmp_path / "bad.parquet")


def test_unusable_files(tmp_path: Path) -> None:
    with pytest.raises(CandleFileError, match="no such file"):
        read_candle_file(tmp_path / "none.parquet")
    (tmp_path / "c.json").write_text("{}")
    with pytest.raises(CandleFileError, match="expected a .parquet or .csv file"):
        read_candle_file(tmp_path / "c.json")
    frame().drop(columns=["volume"]).to_csv(tmp_path / "novol.csv", index=False)
    with pytest.raises(CandleFileError, match="missing columns volume"):
        read_candle_file(tmp_path / "novol.csv")
    frame(0).to_csv(tmp_path / "empty.csv", index=False)
    with pytest.raises(CandleFileError, match="no candles"):
        read_candle_file(tmp_path / "empty.csv")
