"""Read a candles file (parquet or CSV) and refuse it, naming the first bad row, unless it is usable.

Usable means: columns time, open, high, low, close, volume (in any case; the time may also be called
timestamp, datetime, date or start); times strictly increasing; prices positive; every candle's high at or
above its open and close and its low at or below them; volume not negative.

Times are read as what they unambiguously are, or refused naming the column and showing a row: numbers are
seconds, milliseconds, microseconds or nanoseconds since 1970, the unit told by their magnitude (each unit's
range of dates from 1990 to 2100 is orders of magnitude from the others'; a number in none of them, a row
number say, is refused, as is a column mixing units); strings are ISO 8601, with a zone or without one, and
without one they are UTC (as Coinbase's and most exchanges' exports are). Read silently as the wrong unit,
a year of hourly candles in seconds would collapse into one nanosecond-wide bar.
"""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal, cast

import numpy as np
import pandas as pd

COLUMNS = ("time", "open", "high", "low", "close", "volume")
TIME_NAMES = ("time", "timestamp", "datetime", "date", "start")
_SPAN_NS = (pd.Timestamp("1990-01-01", tz="UTC").value, pd.Timestamp("2100-01-01", tz="UTC").value)
Unit = Literal["s", "ms", "us", "ns"]
EPOCH_UNITS: dict[Unit, int] = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}  # unit -> nanoseconds in one
_UNIT_NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
# A file named for its product (ETH-USD.parquet) or in a folder named for it (the cache's ETH-USD/ONE_HOUR.parquet).
_PRODUCT = re.compile(r"[A-Z0-9]{2,}(-[A-Z0-9]{2,})+")


class CandleFileError(ValueError):
    pass


def read_candle_file(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise CandleFileError(f"{path}: no such file")
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
    elif path.suffix == ".csv":
        frame = pd.read_csv(path)
    else:
        raise CandleFileError(f"{path}: expected a .parquet or .csv file")
    found = _columns(frame, path)
    missing = [c for c in COLUMNS if c not in found]
    if missing:
        raise CandleFileError(f"{path}: missing columns {', '.join(missing)} (needs {', '.join(COLUMNS)})")
    if frame.empty:
        raise CandleFileError(f"{path}: no candles")
    raw = frame
    frame = frame.loc[:, [found[c] for c in COLUMNS]].set_axis(list(COLUMNS), axis=1)
    frame["time"] = _times(raw, found["time"], path)
    prices = frame[["open", "high", "low", "close"]].to_numpy(dtype=float)
    o, h, lo, c = prices.T
    times = frame["time"].to_numpy()
    checks = (
        (np.r_[False, times[1:] <= times[:-1]], "time is not after the previous row's"),
        ((prices <= 0).any(axis=1) | ~np.isfinite(prices).all(axis=1), "a price is not a positive number"),
        (h < np.maximum(o, c), "high is below open or close"),
        (lo > np.minimum(o, c), "low is above open or close"),
        (frame["volume"].to_numpy(dtype=float) < 0, "volume is negative"),
    )
    for bad, why in checks:
        if bad.any():
            row = int(np.argmax(bad))
            raise CandleFileError(f"{path}: row {row} ({frame['time'].iloc[row].isoformat()}): {why}")
    frame = frame.reset_index(drop=True)
    named = [part for part in (path.stem, path.parent.name) if _PRODUCT.fullmatch(part)]
    if named:
        frame.attrs["product_id"] = named[0]  # what `run_backtest` labels the trades with
    return frame


def _columns(frame: pd.DataFrame, path: Path) -> dict[str, str]:
    """Each needed column's name in the file, matched in any case; two that could be one are refused."""
    found: dict[str, str] = {}
    for column in map(str, frame.columns):
        key = column.strip().lower()
        canonical = "time" if key in TIME_NAMES else key
        if canonical not in COLUMNS:
            continue
        if canonical in found:
            raise CandleFileError(
                f"{path}: both {found[canonical]!r} and {column!r} could be the {canonical} column: keep one"
            )
        found[canonical] = column
    return found


def _times(raw: pd.DataFrame, column: str, path: Path) -> pd.Series:
    """The time column as UTC times; what is ambiguous or not a time is refused, showing its row."""
    values = raw[column]

    def refuse(row: int, why: str) -> CandleFileError:
        shown = ", ".join(f"{name}={raw[name].iloc[row]}" for name in raw.columns)  # per column: ints stay ints
        return CandleFileError(f"{path}: column {column!r}: {why}; e.g. row {row}: {shown}")

    missing = values.isna().to_numpy()
    if missing.any():
        raise refuse(int(np.argmax(missing)), "a row has no time")
    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.to_datetime(values, utc=True)  # a zone converted to UTC; no zone: UTC
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return _epoch(values, refuse)
    parsed = pd.to_datetime(values.astype(str), utc=True, format="ISO8601", errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        raise refuse(
            row,
            f"{values.iloc[row]!r} is not an ISO 8601 time (like 2026-01-31T14:00:00Z; without a zone, UTC) "
            "nor a number of seconds, milliseconds, microseconds or nanoseconds since 1970",
        )
    return parsed


def _epoch(values: pd.Series, refuse: Callable[[int, str], CandleFileError]) -> pd.Series:
    """Epoch numbers in the unit the first one's magnitude shows; every other must be in the same unit."""
    numbers = values.to_numpy(dtype=float)
    units = np.full(len(numbers), "", dtype=object)
    for each, scale in EPOCH_UNITS.items():
        units[(numbers >= _SPAN_NS[0] / scale) & (numbers < _SPAN_NS[1] / scale)] = each
    if not units[0]:
        raise refuse(
            0,
            f"{values.iloc[0]} is not a time: as seconds, milliseconds, microseconds or nanoseconds since 1970 it "
            "is not between 1990 and 2100",
        )
    unit = cast(Unit, units[0])
    other = units != unit
    if other.any():
        row = int(np.argmax(other))
        raise refuse(row, f"{values.iloc[row]} is not in {_UNIT_NAMES[unit]} since 1970 as row 0's {values.iloc[0]} is")
    if pd.api.types.is_integer_dtype(values):
        return pd.to_datetime(values.astype("int64") * EPOCH_UNITS[unit], utc=True, unit="ns")
    return pd.to_datetime(values, utc=True, unit=unit)
