"""Read a candles file (parquet or CSV) and refuse it, naming the first bad row, unless it is usable.

Usable means: columns time, open, high, low, close, volume; timestamps in UTC, strictly increasing;
prices positive; every candle's high at or above its open and close and its low at or below them;
volume not negative.
"""

from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ("time", "open", "high", "low", "close", "volume")


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
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise CandleFileError(f"{path}: missing columns {', '.join(missing)} (needs {', '.join(COLUMNS)})")
    if frame.empty:
        raise CandleFileError(f"{path}: no candles")
    frame = frame.loc[:, list(COLUMNS)].copy()
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
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
    return frame.reset_index(drop=True)
