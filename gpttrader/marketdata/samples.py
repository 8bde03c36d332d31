"""The shipped sample data: one year of one-minute candles for BTC-USD, ETH-USD and SOL-USD.

Made by `synthetic_candles` (regime-switching volatility, fat tails, an intraday volume pattern) with
the specs and seeds below, from 2025-01-01 00:00 UTC, prices rounded to each market's tick as real
candles are, and written as zstd parquet with columns time, open, high, low, close, volume. The same
code always writes the same files; regenerate them with

    python -m gpttrader.marketdata.samples data/sample
"""

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gpttrader.marketdata.synthetic import SyntheticSpec, synthetic_candles

SAMPLE_START = datetime(2025, 1, 1, tzinfo=UTC)
SAMPLE_MINUTES = 365 * 24 * 60
PRICE_COLUMNS = ("open", "high", "low", "close")


@dataclass(frozen=True, slots=True)
class Sample:
    spec: SyntheticSpec
    tick: float
    seed: int


# About $500k traded a minute in each market; volatility rising from BTC to SOL as in the real markets.
SAMPLES: dict[str, Sample] = {
    "BTC-USD": Sample(SyntheticSpec("BTC-USD", 95_000.0, 0.45, 1.10, base_volume=500_000 / 95_000), 0.01, 20250101),
    "ETH-USD": Sample(SyntheticSpec("ETH-USD", 3_500.0, 0.60, 1.40, base_volume=500_000 / 3_500), 0.01, 20250102),
    "SOL-USD": Sample(SyntheticSpec("SOL-USD", 180.0, 0.80, 1.80, base_volume=500_000 / 180), 0.01, 20250103),
}


def sample_file(folder: Path, product_id: str) -> Path:
    return folder / f"{product_id}_1m.parquet"


def sample_candles(product_id: str) -> pd.DataFrame:
    """The sample's candles, generated (what `write_sample` stores)."""
    if product_id not in SAMPLES:
        raise ValueError(f"no sample for {product_id!r}; samples: {', '.join(SAMPLES)}")
    sample = SAMPLES[product_id]
    candles = synthetic_candles(sample.spec, SAMPLE_START, SAMPLE_MINUTES, sample.seed)
    decimals = len(f"{sample.tick:f}".rstrip("0").split(".")[1])
    for column in PRICE_COLUMNS:
        candles[column] = candles[column].round(decimals)
    candles["volume"] = candles["volume"].round(6)
    return candles


def write_sample(folder: Path, product_id: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = sample_file(folder, product_id)
    table = pa.Table.from_pandas(sample_candles(product_id), preserve_index=False)
    pq.write_table(
        table, path, compression="zstd", compression_level=19, use_byte_stream_split=[*PRICE_COLUMNS, "volume"]
    )
    return path


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m gpttrader.marketdata.samples FOLDER", file=sys.stderr)
        return 2
    for product_id in SAMPLES:
        print(f"wrote {write_sample(Path(argv[0]), product_id)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
