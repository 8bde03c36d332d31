"""Load candles for research: the shipped sample, the download cache, or a user's parquet/CSV file."""

from datetime import datetime
from pathlib import Path

import pandas as pd

from gpttrader.domain import Granularity
from gpttrader.marketdata.cache import COINBASE, CandleCache
from gpttrader.marketdata.files import CandleFileError, read_candle_file
from gpttrader.marketdata.frames import between, resample
from gpttrader.marketdata.samples import SAMPLES, sample_file


def load_candles(
    product_id: str,
    granularity: Granularity | str | int = Granularity.ONE_MINUTE,
    *,
    source: str | Path = "sample",
    start: datetime | None = None,
    end: datetime | None = None,
    data_dir: Path,
    venue: str = COINBASE,
) -> pd.DataFrame:
    """Candles for `product_id` from `source`: "sample", "cache" (`venue`'s candles), or a path to a file of
    one-minute or coarser candles. Finer candles are resampled to `granularity`; every file is validated."""
    grain = Granularity.parse(granularity)
    if source == "sample":
        if product_id not in SAMPLES:
            raise CandleFileError(f"no sample data for {product_id!r}; samples: {', '.join(SAMPLES)}")
        frame = read_candle_file(sample_file(data_dir / "sample", product_id))
    elif source == "cache":
        path = CandleCache.of(data_dir, venue).path(product_id, grain)
        if not path.is_file():
            raise CandleFileError(f"no cached {grain.value} candles for {product_id} at {path}; fetch them first")
        frame = read_candle_file(path)
    else:
        frame = read_candle_file(Path(source))
    frame = between(frame, start, end)
    if frame.empty:
        raise CandleFileError(f"no {product_id} candles between {start} and {end} in {source}")
    width = frame["time"].diff().min()
    if len(frame) > 1 and width < pd.Timedelta(seconds=grain.seconds):
        frame = resample(frame, grain)
    elif len(frame) > 1 and width > pd.Timedelta(seconds=grain.seconds):
        raise CandleFileError(f"{source} holds {width} candles, coarser than {grain.value}; load a coarser granularity")
    named = frame.attrs.get("product_id", product_id)  # the file's name or folder, when it is a product's
    if named != product_id:
        raise CandleFileError(f"{source} is named for {named}, not {product_id}")
    frame.attrs["product_id"] = product_id  # a backtest labels its trades and finds its increments by it
    return frame
