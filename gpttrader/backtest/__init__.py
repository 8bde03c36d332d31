"""Backtests on the shared engine: the same strategy, sizing, fill model and portfolio as paper and live."""

from gpttrader.backtest.result import BacktestResult, Trade
from gpttrader.backtest.runner import run_backtest
from gpttrader.backtest.sweep import parameter_sweep

__all__ = ["BacktestResult", "Trade", "parameter_sweep", "run_backtest"]
