"""The parquet cache of downloaded candles: data/cache/candles/<PRODUCT>/<GRANULARITY>.parquet.

Writes go to a temporary file that replaces the cache file in one rename, so a crash mid-write leaves
the previous cache intact, never a truncated file.
"""

import os
import tempfile
from pathlib import Path

import pandas as pd

from gpttrader.domain import Granularity
from gpttrader.marketdata.files import read_candle_file
from gpttrader.marketdata.frames import COLUMNS, empty_frame


class CandleCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, product_id: str, granularity: Granularity) -> Path:
        return self.root / product_id / f"{granularity.value}.parquet"

    def read(self, product_id: str, granularity: Granularity) -> pd.DataFrame:
        path = self.path(product_id, granularity)
        return read_candle_file(path) if path.is_file() else empty_frame()

    def write(self, product_id: str, granularity: Granularity, frame: pd.DataFrame) -> Path:
        path = self.path(product_id, granularity)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            frame.loc[:, list(COLUMNS)].to_parquet(temporary, index=False, compression="zstd")
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return path
