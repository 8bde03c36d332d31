"""Build a built-in strategy by name from loosely typed parameters (a CLI, a notebook parameter cell, a
sweep grid), checking every name and type with an error that lists what is accepted."""

import inspect
from collections.abc import Callable, Mapping
from typing import Any

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


# name -> (constructor, parameter -> type)
STRATEGIES: dict[str, tuple[Callable[..., Strategy | OrderStrategy], dict[str, type]]] = {
    "ma_cross": (MovingAverageCross, {"fast": int, "slow": int, "allow_short": bool}),
    "rsi": (RSIMeanReversion, {"period": int, "oversold": float, "exit_level": float}),
    "macd": (MACDTrend, {"fast": int, "slow": int, "signal": int, "allow_short": bool}),
    "ensemble": (ensemble, {"method": str, "threshold": float, "allow_short": bool}),
    "baseline": (
        Baseline,
        {
            "fast": int,
            "slow": int,
            "rsi_period": int,
            "rsi_overbought": float,
            "rsi_oversold": float,
            "stop_loss": float,
            "take_profit": float,
        },
    ),
    "breakout": (
        BreakoutBracket,
        {"lookback": int, "take_profit": float, "stop_loss": float, "expire_bars": int, "fraction": float},
    ),
}


def build_strategy(name: str, params: Mapping[str, Any] | None = None) -> Strategy | OrderStrategy:
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; strategies: {', '.join(STRATEGIES)}")
    constructor, accepted = STRATEGIES[name]
    converted: dict[str, Any] = {}
    for key, value in (params or {}).items():
        if key not in accepted:
            raise ValueError(f"strategy {name} takes no parameter {key!r}; parameters: {', '.join(accepted)}")
        converted[key] = _convert(name, key, value, accepted[key])
    required = [p.name for p in inspect.signature(constructor).parameters.values() if p.default is p.empty]
    missing = [key for key in required if key not in converted]
    if missing:
        raise ValueError(f"strategy {name} needs parameters {', '.join(missing)} (parameters: {', '.join(accepted)})")
    return constructor(**converted)


def _convert(name: str, key: str, value: Any, kind: type) -> Any:
    if kind is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1", "yes"):
            return True
        if str(value).lower() in ("false", "0", "no"):
            return False
        raise ValueError(f"strategy {name}: {key} must be true or false, got {value!r}")
    try:
        converted = kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"strategy {name}: {key} must be {kind.__name__}, got {value!r}") from None
    if kind is int and isinstance(value, float) and value != converted:
        raise ValueError(f"strategy {name}: {key} must be a whole number, got {value!r}")
    return converted
