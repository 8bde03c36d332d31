"""The parquet cache of downloaded candles: data/cache/candles/<VENUE>/<PRODUCT>/<GRANULARITY>.parquet.

The venue is whose candles they are (`venue`): Coinbase's own, a sandbox's, or the dev market's seeded
paths, so that simulated prices never stand in for real ones or the other way round. Files of the older
layout without a venue (data/cache/candles/<PRODUCT>/...) are not read: they are downloaded again.

Writes go to a temporary file that replaces the cache file in one rename, so a crash mid-write leaves
the previous cache intact, never a truncated file.
"""

import os
import tempfile
from pathlib import Path

import pandas as pd

from gpttrader.config import BotConfig
from gpttrader.domain import Granularity
from gpttrader.marketdata.files import read_candle_file
from gpttrader.marketdata.frames import COLUMNS, empty_frame

COINBASE, SANDBOX, DEV = "coinbase", "sandbox", "dev"


def market_venue(config: BotConfig) -> str:
    """Whose candles the profile's market data serves: the sandbox's at COINBASE_SANDBOX_URL, or Coinbase's."""
    return SANDBOX if config.coinbase.sandbox_url else COINBASE


def venue(config: BotConfig) -> str:
    """Whose candles the profile's bot trades on: the dev market's with the deterministic broker, else its
    market data's (paper on Coinbase's public data reads Coinbase's own candles, the same as prod's)."""
    return DEV if config.broker == "deterministic" else market_venue(config)


class CandleCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def of(cls, data_dir: Path, venue: str) -> "CandleCache":
        """The cache of one venue's candles under a data directory."""
        return cls(data_dir / "cache" / "candles" / venue)

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
