"""Market data: candles from the broker, the parquet cache, the shipped samples and synthetic paths."""

from gpttrader.marketdata.synthetic import SyntheticSpec, synthetic_candles

__all__ = ["SyntheticSpec", "synthetic_candles"]
