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


def hourly(rows: int = 48) -> pd.DataFrame:
    """Candles that trade: a ramp up then down, an hour apart."""
    times = pd.date_range("2026-01-01", periods=rows, freq="1h", tz="UTC")
    close = [100.0 + (i if i < rows // 2 else rows - i) for i in range(rows)]
    return pd.DataFrame(
        {"time": times, "open": close, "high": [c + 1 for c in close], "low": [c - 1 for c in close], "close": close}
    ).assign(volume=5.0)


@pytest.mark.parametrize(("unit", "scale"), [("s", 10**9), ("ms", 10**6), ("us", 10**3), ("ns", 1)])
def test_epoch_numbers_are_read_in_the_unit_their_magnitude_shows(tmp_path: Path, unit: str, scale: int) -> None:
    data = hourly()
    epoch = data.assign(time=data["time"].astype("datetime64[ns, UTC]").astype("int64") // scale)
    epoch.to_csv(tmp_path / "c.csv", index=False)
    read = read_candle_file(tmp_path / "c.csv")
    assert list(read["time"]) == list(data["time"])
    fractional = data.assign(time=data["time"].astype("datetime64[ns, UTC]").astype("int64") / 1e9)  # float seconds
    fractional.to_csv(tmp_path / "f.csv", index=False)
    assert list(read_candle_file(tmp_path / "f.csv")["time"]) == list(data["time"])


def test_iso_strings_with_or_without_a_zone_and_any_case_of_column_names(tmp_path: Path) -> None:
    data = hourly(4)
    zoned = data.assign(time=data["time"].dt.tz_convert("America/New_York").map(lambda t: t.isoformat()))
    naive = data.assign(time=data["time"].dt.strftime("%Y-%m-%d %H:%M:%S"))  # no zone: UTC
    zoned.rename(columns=str.upper).to_csv(tmp_path / "zoned.csv", index=False)
    naive.rename(columns={"time": "Timestamp", "close": "Close"}).to_csv(tmp_path / "naive.csv", index=False)
    for name in ("zoned.csv", "naive.csv"):
        read = read_candle_file(tmp_path / name)
        assert list(read.columns) == ["time", "open", "high", "low", "close", "volume"]
        assert list(read["time"]) == list(data["time"]), name


@pytest.mark.parametrize(
    ("times", "message"),
    [
        ([1, 2, 3], r"column 'time': 1 is not a time: .*e\.g\. row 0: time=1, open=100"),
        ([1_767_225_600, 1_767_229_200_000, 1_767_232_800], r"column 'time': .*row 1: time=1767229200000"),
        (["01/02/2026", "01/03/2026", "01/04/2026"], r"column 'time': '01/02/2026' is not .*ISO 8601.*row 0"),
        (["2026-01-01T00:00", "soon", "2026-01-01T02:00"], r"column 'time': 'soon' .*row 1: time=soon"),
    ],
)
def test_ambiguous_times_are_refused_naming_the_column_and_a_row(
    tmp_path: Path, times: list[object], message: str
) -> None:
    data = hourly(3).assign(time=times)
    data.to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(CandleFileError, match=message):
        read_candle_file(tmp_path / "c.csv")


def test_two_time_columns_or_two_spellings_of_one_are_refused(tmp_path: Path) -> None:
    hourly(3).assign(timestamp=1).to_csv(tmp_path / "two.csv", index=False)
    with pytest.raises(CandleFileError, match="both 'time' and 'timestamp'"):
        read_candle_file(tmp_path / "two.csv")
    hourly(3).assign(Close=1.0).to_csv(tmp_path / "twice.csv", index=False)
    with pytest.raises(CandleFileError, match="both 'close' and 'Close'"):
        read_candle_file(tmp_path / "twice.csv")


def test_a_unix_seconds_csv_backtests_as_the_same_candles_in_parquet(tmp_path: Path) -> None:
    from gpttrader.backtest import run_backtest
    from gpttrader.marketdata import load_candles
    from gpttrader.strategy import MovingAverageCross

    minutes = pd.date_range("2026-01-01", periods=3 * 24 * 60, freq="1min", tz="UTC")
    wave = [100 + 10 * ((i // 240) % 2) + (i % 240) / 60 for i in range(len(minutes))]
    data = pd.DataFrame({"time": minutes, "open": wave, "high": wave, "low": wave, "close": wave, "volume": 1.0})
    data.to_parquet(tmp_path / "ETH-USD.parquet")
    seconds = data["time"].astype("datetime64[ns, UTC]").astype("int64") // 10**9
    data.assign(time=seconds).to_csv(tmp_path / "eth.csv", index=False)
    results = [
        run_backtest(
            MovingAverageCross(3, 8),
            load_candles("ETH-USD", "ONE_HOUR", source=tmp_path / name, data_dir=tmp_path),
        )
        for name in ("ETH-USD.parquet", "eth.csv")
    ]
    assert results[0].metrics["trades"] > 0
    assert results[0].metrics == results[1].metrics
    assert results[0].fills == results[1].fills
    assert {f.product_id for f in results[1].fills} == {"ETH-USD"}


def test_a_backtest_needs_the_product_of_candles_that_carry_none(tmp_path: Path) -> None:
    from gpttrader.backtest import run_backtest
    from gpttrader.marketdata import load_candles
    from gpttrader.strategy import MovingAverageCross

    data = hourly()
    (tmp_path / "ETH-USD").mkdir()
    data.to_parquet(tmp_path / "ETH-USD" / "ONE_HOUR.parquet")
    data.to_csv(tmp_path / "mine.csv", index=False)
    assert read_candle_file(tmp_path / "ETH-USD" / "ONE_HOUR.parquet").attrs["product_id"] == "ETH-USD"
    bare = read_candle_file(tmp_path / "mine.csv")
    with pytest.raises(ValueError, match="which product are these candles of"):
        run_backtest(MovingAverageCross(3, 8), bare)
    labelled = run_backtest(MovingAverageCross(3, 8), bare, product_id="ETH-USD")
    assert {f.product_id for f in labelled.fills} == {"ETH-USD"}
    with pytest.raises(CandleFileError, match="named for ETH-USD, not BTC-USD"):
        load_candles("BTC-USD", "ONE_HOUR", source=tmp_path / "ETH-USD" / "ONE_HOUR.parquet", data_dir=tmp_path)
