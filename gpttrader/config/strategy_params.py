"""The parameters each built-in strategy takes, and their conversion from loosely typed values (a profile,
a CLI `--param`, a notebook parameter cell, a sweep grid) with errors that list what is accepted.

They are declared here, below the strategies, so that `strategy.params` is checked when a configuration
loads, wherever it is loaded (config may import only domain: DESIGN.md); `strategy.registry` pairs each
name with its constructor and builds through `strategy_arguments`, and a test holds the constructors to
these declarations.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Parameters:
    types: dict[str, type]
    required: frozenset[str] = field(default_factory=frozenset)


STRATEGY_PARAMETERS: dict[str, Parameters] = {
    "ma_cross": Parameters({"fast": int, "slow": int, "allow_short": bool}),
    "rsi": Parameters({"period": int, "oversold": float, "exit_level": float}),
    "macd": Parameters({"fast": int, "slow": int, "signal": int, "allow_short": bool}),
    "ensemble": Parameters({"method": str, "threshold": float, "allow_short": bool}),
    "baseline": Parameters(
        {
            "fast": int,
            "slow": int,
            "rsi_period": int,
            "rsi_overbought": float,
            "rsi_oversold": float,
            "stop_loss": float,
            "take_profit": float,
        }
    ),
    "breakout": Parameters(
        {"lookback": int, "take_profit": float, "stop_loss": float, "expire_bars": int, "fraction": float}
    ),
}


class StrategyParameterError(ValueError):
    """A strategy name or parameter that cannot be used; `field` locates it under `strategy` (`name`,
    `params` or `params.<parameter>`) and `value` is what was given there."""

    def __init__(self, message: str, field: str, value: object) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


def strategy_arguments(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """`params` converted to the declared types, every name known and every required one present."""
    if name not in STRATEGY_PARAMETERS:
        raise StrategyParameterError(
            f"unknown strategy {name!r}; strategies: {', '.join(STRATEGY_PARAMETERS)}", "name", name
        )
    return declared_arguments(name, STRATEGY_PARAMETERS[name], params)


def declared_arguments(name: str, declared: Parameters, params: Mapping[str, Any]) -> dict[str, Any]:
    """`params` checked against `declared` (a type of `object` takes a value as given)."""
    listed = ", ".join(declared.types)
    converted: dict[str, Any] = {}
    for key, value in params.items():
        if key not in declared.types:
            raise StrategyParameterError(
                f"strategy {name} takes no parameter {key!r}; parameters: {listed}", f"params.{key}", value
            )
        converted[key] = _convert(name, key, value, declared.types[key])
    missing = sorted(declared.required - set(converted))
    if missing:
        raise StrategyParameterError(
            f"strategy {name} needs parameters {', '.join(missing)} (parameters: {listed})", "params", dict(params)
        )
    return converted


def _convert(name: str, key: str, value: Any, kind: type) -> Any:
    def wrong(expected: str) -> StrategyParameterError:
        return StrategyParameterError(
            f"strategy {name}: {key} must be {expected}, got {value!r}", f"params.{key}", value
        )

    if kind is object:
        return value
    if kind is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1", "yes"):
            return True
        if str(value).lower() in ("false", "0", "no"):
            return False
        raise wrong("true or false")
    try:
        converted = kind(value)
    except (TypeError, ValueError, OverflowError):
        raise wrong(kind.__name__) from None
    if kind is int and isinstance(value, float) and value != converted:
        raise wrong("a whole number")
    if kind is float and not math.isfinite(converted):
        raise wrong("a finite number")
    return converted
