"""Backtests on the shared engine: the same strategy, sizing, fill model and portfolio as paper and live."""

from gpttrader.backtest.result import BacktestResult
from gpttrader.backtest.runner import run_backtest
from gpttrader.backtest.sweep import parameter_sweep
from gpttrader.domain.round_trips import RoundTrip

__all__ = ["BacktestResult", "RoundTrip", "parameter_sweep", "run_backtest"]
