"""gpttrader: one engine and one strategy API for backtests, paper trading and live Coinbase sessions."""

__version__ = "0.1.0"
