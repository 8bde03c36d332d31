"""Candles as a DataFrame (time, open, high, low, close, volume; UTC times; float prices) for research.

Research frames hold floats for speed: orders, fills and balances stay Decimal, and prices are
quantized to the product's grid when they become orders.
"""

from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from gpttrader.domain import Candle, Granularity

COLUMNS = ("time", "open", "high", "low", "close", "volume")


def empty_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"time": pd.Series(dtype="datetime64[ns, UTC]"), **{c: pd.Series(dtype=float) for c in COLUMNS[1:]}}
    )


def to_frame(candles: Sequence[Candle]) -> pd.DataFrame:
    if not candles:
        return empty_frame()
    return pd.DataFrame(
        {
            "time": pd.to_datetime([c.time for c in candles], utc=True),
            "open": [float(c.open) for c in candles],
            "high": [float(c.high) for c in candles],
            "low": [float(c.low) for c in candles],
            "close": [float(c.close) for c in candles],
            "volume": [float(c.volume) for c in candles],
        }
    )


def merge(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """One sorted frame with one row per time; where both have a time, the newer fetch wins."""
    combined = pd.concat([old, new], ignore_index=True) if len(old) else new
    return combined.drop_duplicates("time", keep="last").sort_values("time", ignore_index=True)


def gaps(frame: pd.DataFrame, granularity: Granularity) -> list[tuple[datetime, datetime]]:
    """Missing stretches between the first and last candle, as (first missing, last missing) times."""
    if len(frame) < 2:
        return []
    step = pd.Timedelta(seconds=granularity.seconds)
    times = frame["time"]
    jumps = times.diff() > step
    return [
        (start.to_pydatetime() + step, end.to_pydatetime() - step)
        for start, end in zip(times.shift(1)[jumps], times[jumps], strict=True)
    ]


def between(frame: pd.DataFrame, start: datetime | None, end: datetime | None) -> pd.DataFrame:
    """Rows with start <= time < end (either bound optional)."""
    mask = pd.Series(True, index=frame.index)
    if start is not None:
        mask &= frame["time"] >= pd.Timestamp(start)
    if end is not None:
        mask &= frame["time"] < pd.Timestamp(end)
    return frame.loc[mask].reset_index(drop=True)


def resample(frame: pd.DataFrame, granularity: Granularity) -> pd.DataFrame:
    """Coarser candles from finer ones: first open, highest high, lowest low, last close, summed volume."""
    if frame.empty:
        return empty_frame()
    grouped = frame.set_index("time").resample(f"{granularity.seconds}s", label="left", closed="left")
    out = grouped.agg({"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
    return out.dropna(subset=["open"]).reset_index()
