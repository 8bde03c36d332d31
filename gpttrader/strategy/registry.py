"""Build a strategy from loosely typed parameters (a CLI, a notebook parameter cell, a sweep grid), checking
every name and type with an error that lists what is accepted.

A strategy is named by a registered name (the built-ins, and any `register_strategy` adds), by
"module:Class" (the module importable from the current directory), or given as the class (or any
function that builds one) or as the object itself: `resolve_strategy` takes each, so a researcher's own
strategy goes wherever a built-in does. A class's parameters are declared by its constructor's
annotations (int, float, bool, str convert from text; others are passed as given).
"""

import importlib
import inspect
import os
import sys
import typing
from collections.abc import Callable, Mapping
from typing import Any

from gpttrader.config.strategy_params import (
    STRATEGY_PARAMETERS,
    Parameters,
    StrategyParameterError,
    declared_arguments,
    strategy_arguments,
)
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


Constructor = Callable[..., Strategy | OrderStrategy]
StrategySpec = str | Constructor | Strategy | OrderStrategy
_CONVERTED = (int, float, bool, str)


def build_strategy(name: str, params: Mapping[str, Any] | None = None) -> Strategy | OrderStrategy:
    arguments = strategy_arguments(name, params or {})  # first: it names an unknown strategy
    return STRATEGIES[name](**arguments)


def register_strategy(name: str, constructor: Constructor) -> None:
    """Make `name` build `constructor` everywhere a built-in's name is read, profiles' `strategy.name`
    included (register before loading the configuration). Its parameters are its constructor's."""
    if name in STRATEGIES and STRATEGIES[name] is not constructor:
        raise ValueError(f"strategy {name!r} is registered already, as {STRATEGIES[name]!r}")
    STRATEGY_PARAMETERS[name] = parameters_of(constructor)
    STRATEGIES[name] = constructor


def resolve_strategy(spec: StrategySpec, params: Mapping[str, Any] | None = None) -> Strategy | OrderStrategy:
    """The strategy `spec` names or is, built with `params` (an object already built takes none)."""
    if isinstance(spec, str) and ":" not in spec:
        return build_strategy(spec, params)
    constructor = strategy_constructor(spec)
    if constructor is None:
        if params:
            raise ValueError(f"{strategy_label(spec)} is built already: give its class to set parameters")
        return spec  # type: ignore[return-value]
    return constructor(**declared_arguments(strategy_label(spec), parameters_of(constructor), params or {}))


def strategy_constructor(spec: StrategySpec) -> Constructor | None:
    """What builds the strategy `spec` names (None: `spec` is a strategy object itself)."""
    if isinstance(spec, str):
        return STRATEGIES[spec] if ":" not in spec else _imported(spec)
    if isinstance(spec, type) or not hasattr(spec, "on_bar"):
        if not callable(spec):
            raise ValueError(f"{spec!r} is not a strategy: a name, 'module:Class', a class or a strategy object")
        return spec
    return None


def strategy_label(spec: StrategySpec) -> str:
    if isinstance(spec, str):
        return spec
    if isinstance(spec, type) or inspect.isfunction(spec):
        return spec.__name__
    return str(getattr(spec, "name", type(spec).__name__))


def parameters_of(constructor: Constructor) -> Parameters:
    """The parameters a constructor takes, by its signature: those without a default are required."""
    target = constructor.__init__ if isinstance(constructor, type) else constructor  # type: ignore[misc]
    try:
        hints = typing.get_type_hints(target)
    except Exception:  # annotations that do not resolve: values go as given
        hints = {}
    types: dict[str, type] = {}
    required = set()
    for parameter in inspect.signature(constructor).parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        hint = hints.get(parameter.name)
        types[parameter.name] = hint if hint in _CONVERTED else object
        if parameter.default is parameter.empty:
            required.add(parameter.name)
    return Parameters(types, frozenset(required))


def _imported(spec: str) -> Constructor:
    """`module:Class`, the module imported as `python` would from the current directory."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise StrategyParameterError(f"{spec!r} is not module:Class, e.g. my_strategy:Momentum", "name", spec)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise StrategyParameterError(
            f"cannot import {module_name!r} for strategy {spec!r} (from {os.getcwd()} or the installed "
            f"packages): {exc}",
            "name",
            spec,
        ) from None
    found = getattr(module, attribute, None)
    if found is None or not callable(found):
        raise StrategyParameterError(f"module {module_name} has no strategy class {attribute!r}", "name", spec)
    return typing.cast(Constructor, found)
