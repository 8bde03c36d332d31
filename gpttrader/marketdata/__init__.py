"""Market data: candles from the broker, the parquet cache, the shipped samples and synthetic paths."""

from gpttrader.marketdata.files import CandleFileError, read_candle_file
from gpttrader.marketdata.synthetic import SyntheticSpec, synthetic_candles

__all__ = ["CandleFileError", "SyntheticSpec", "read_candle_file", "synthetic_candles"]
