"""Market data: candles from the broker into a parquet cache, the shipped samples, users' files."""

from gpttrader.marketdata.cache import CandleCache
from gpttrader.marketdata.fetch import FetchResult, fetch_candles
from gpttrader.marketdata.files import CandleFileError, read_candle_file
from gpttrader.marketdata.load import load_candles
from gpttrader.marketdata.source import CandleSource
from gpttrader.marketdata.synthetic import SyntheticSpec, synthetic_candles

__all__ = [
    "CandleCache",
    "CandleFileError",
    "CandleSource",
    "FetchResult",
    "SyntheticSpec",
    "fetch_candles",
    "load_candles",
    "read_candle_file",
    "synthetic_candles",
]
