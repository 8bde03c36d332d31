"""Strategies and what they are built from: indicators, signals, the ensemble voter and filters."""

from gpttrader.strategy.base import (
    Bar,
    CancelEntries,
    Intent,
    OrderIntent,
    OrderStrategy,
    Strategy,
    TargetPosition,
    bars,
)
from gpttrader.strategy.builtin import (
    Baseline,
    BreakoutBracket,
    EnsembleStrategy,
    MACDTrend,
    MovingAverageCross,
    RSIMeanReversion,
)
from gpttrader.strategy.ensemble import Voter
from gpttrader.strategy.filters import MomentumFilter, TrendFilter, VolumeFilter
from gpttrader.strategy.indicators import ATR, EMA, MACD, RSI, SMA, Bollinger, atr, bollinger, ema, macd, rsi, sma
from gpttrader.strategy.registry import STRATEGIES, build_strategy, register_strategy, resolve_strategy
from gpttrader.strategy.signals import BollingerSignal, MACDSignal, MovingAverageCrossSignal, RSISignal
from gpttrader.strategy.timeframes import HigherBars, Stepper, WatchesHigherTimeframes

__all__ = [
    "ATR",
    "EMA",
    "MACD",
    "RSI",
    "SMA",
    "STRATEGIES",
    "Bar",
    "Baseline",
    "Bollinger",
    "BollingerSignal",
    "BreakoutBracket",
    "CancelEntries",
    "EnsembleStrategy",
    "HigherBars",
    "Intent",
    "MACDSignal",
    "MACDTrend",
    "MomentumFilter",
    "MovingAverageCross",
    "MovingAverageCrossSignal",
    "OrderIntent",
    "OrderStrategy",
    "RSIMeanReversion",
    "RSISignal",
    "Stepper",
    "Strategy",
    "TargetPosition",
    "TrendFilter",
    "VolumeFilter",
    "Voter",
    "WatchesHigherTimeframes",
    "atr",
    "bars",
    "bollinger",
    "build_strategy",
    "ema",
    "macd",
    "register_strategy",
    "resolve_strategy",
    "rsi",
    "sma",
]
