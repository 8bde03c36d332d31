"""Build a built-in strategy by name from loosely typed parameters (a CLI, a notebook parameter cell, a
sweep grid), checking every name and type with an error that lists what is accepted."""

from collections.abc import Callable, Mapping
from typing import Any

from gpttrader.config.strategy_params import strategy_arguments
from gpttrader.strategy.base import OrderStrategy, Strategy
from gpttrader.strategy.builtin import (
    Baseline,
    BreakoutBracket,
    EnsembleStrategy,
    MACDTrend,
    MovingAverageCross,
    RSIMeanReversion,
)
from gpttrader.strategy.ensemble import Voter
from gpttrader.strategy.signals import BollingerSignal, MACDSignal, MovingAverageCrossSignal, RSISignal


def ensemble(method: str = "weighted", threshold: float = 0.5, allow_short: bool = False) -> EnsembleStrategy:
    """The default ensemble: MA cross, RSI, MACD and Bollinger signals under one voter."""
    signals = (MovingAverageCrossSignal(10, 30), RSISignal(), MACDSignal(), BollingerSignal())
    return EnsembleStrategy(signals, Voter(method, threshold=threshold), allow_short=allow_short)  # type: ignore[arg-type]


# name -> constructor; the parameters each takes are declared in gpttrader.config.strategy_params, where a
# configuration is checked against them when it loads.
STRATEGIES: dict[str, Callable[..., Strategy | OrderStrategy]] = {
    "ma_cross": MovingAverageCross,
    "rsi": RSIMeanReversion,
    "macd": MACDTrend,
    "ensemble": ensemble,
    "baseline": Baseline,
    "breakout": BreakoutBracket,
}


def build_strategy(name: str, params: Mapping[str, Any] | None = None) -> Strategy | OrderStrategy:
    arguments = strategy_arguments(name, params or {})  # first: it names an unknown strategy
    return STRATEGIES[name](**arguments)
