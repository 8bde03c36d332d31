"""The built-in strategies. Long-only unless `allow_short` is set; targets are fractions of equity.
All but `BreakoutBracket` (which places limit entries with a bracket attached) decide by target."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from gpttrader.domain import OrderType, Side
from gpttrader.strategy.base import Array, Bar, OrderIntent, TargetPosition
from gpttrader.strategy.ensemble import Voter
from gpttrader.strategy.filters import Filter, FilterStep, apply_filters
from gpttrader.strategy.indicators import RSI, rsi, sma
from gpttrader.strategy.signals import MACDSignal, MovingAverageCrossSignal, Signal, Stepper

if TYPE_CHECKING:
    import pandas as pd


def _clip_short(values: Array, allow_short: bool) -> Array:
    return values if allow_short else np.maximum(values, 0.0)


def _direction(value: float | None, allow_short: bool) -> float:
    """A signal's bar-by-bar value as a target: 0 while it warms up, never short unless allowed."""
    direction = 0.0 if value is None else value
    return direction if allow_short else max(direction, 0.0)


@dataclass(frozen=True)
class MovingAverageCross:
    """Long while the fast simple average of closes is above the slow one; flat (or short) below. The 10 and
    30 bar defaults are the textbook pair, so `--strategy ma_cross` runs as written."""

    fast: int = 10
    slow: int = 30
    allow_short: bool = False
    name: str = "ma_cross"

    def __post_init__(self) -> None:
        for label, value in (("fast", self.fast), ("slow", self.slow)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{label} must be a whole number >= 1, got {value!r}")
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be below slow ({self.slow})")

    @property
    def warmup(self) -> int:
        return self.slow

    @property
    def _source(self) -> MovingAverageCrossSignal:
        return MovingAverageCrossSignal(self.fast, self.slow)

    def targets(self, candles: pd.DataFrame) -> Array:
        return _clip_short(np.nan_to_num(self._source.compute(candles)), self.allow_short)

    def new_state(self) -> Stepper:
        return self._source.stepper()

    def on_bar(self, bar: Bar, state: Stepper) -> TargetPosition:
        target = _direction(state.update(bar), self.allow_short)
        return TargetPosition(bar.product_id, target, 1.0, self._reason)

    def indicators(self, candles: pd.DataFrame) -> dict[str, pd.Series]:
        """The two averages it compares, for the price chart (`gpttrader.reports.indicators`)."""
        import pandas as pd

        close = candles["close"].to_numpy(dtype=float)
        return {f"sma{n}": pd.Series(sma(close, n), index=candles.index) for n in (self.fast, self.slow)}

    @cached_property
    def _reason(self) -> str:
        return f"sma{self.fast} vs sma{self.slow}"


@dataclass(frozen=True)
class RSIMeanReversion:
    """Buy when RSI falls below `oversold`; hold until it rises above `exit_level`."""

    period: int = 14
    oversold: float = 30.0
    exit_level: float = 50.0
    name: str = "rsi_reversion"

    def __post_init__(self) -> None:
        if not 0 < self.oversold < self.exit_level < 100:
            raise ValueError(f"need 0 < oversold ({self.oversold}) < exit_level ({self.exit_level}) < 100")

    @property
    def warmup(self) -> int:
        return self.period + 1

    def targets(self, candles: pd.DataFrame) -> Array:
        value = rsi(candles["close"].to_numpy(dtype=float), self.period)
        decisions = np.where(value < self.oversold, 1.0, np.where(value > self.exit_level, 0.0, np.nan))
        import pandas as pd

        return np.asarray(pd.Series(decisions).ffill().fillna(0.0), dtype=np.float64)

    def new_state(self) -> dict[str, Any]:
        return {"rsi": RSI(self.period), "target": 0.0}

    def on_bar(self, bar: Bar, state: dict[str, Any]) -> TargetPosition:
        value = state["rsi"].update(bar.close)
        if value is not None and value < self.oversold:
            state["target"] = 1.0
        elif value is not None and value > self.exit_level:
            state["target"] = 0.0
        return TargetPosition(bar.product_id, state["target"], 1.0, f"rsi{self.period}={value}")


@dataclass(frozen=True)
class MACDTrend:
    """Long while the MACD histogram is positive (the line above its signal)."""

    fast: int = 12
    slow: int = 26
    signal: int = 9
    allow_short: bool = False
    name: str = "macd_trend"

    @property
    def warmup(self) -> int:
        return self.slow + self.signal - 1

    @property
    def _source(self) -> MACDSignal:
        return MACDSignal(self.fast, self.slow, self.signal)

    def targets(self, candles: pd.DataFrame) -> Array:
        return _clip_short(np.nan_to_num(self._source.compute(candles)), self.allow_short)

    def new_state(self) -> Stepper:
        return self._source.stepper()

    def on_bar(self, bar: Bar, state: Stepper) -> TargetPosition:
        return TargetPosition(bar.product_id, _direction(state.update(bar), self.allow_short), 1.0, "macd histogram")


@dataclass(frozen=True)
class EnsembleStrategy:
    """Signals voted into a direction, then passed through the enabled filters; the target is the
    direction (scaled by confidence when `scale_by_confidence`)."""

    signals: tuple[Signal, ...]
    voter: Voter = field(default_factory=Voter)
    filters: tuple[Filter, ...] = ()
    allow_short: bool = False
    scale_by_confidence: bool = False
    name: str = "ensemble"

    def __post_init__(self) -> None:
        if not self.signals:
            raise ValueError("an ensemble needs at least one signal")

    @property
    def warmup(self) -> int:
        return max(s.warmup for s in self.signals)

    def _target(self, direction: Array, confidence: Array) -> Array:
        direction = _clip_short(direction, self.allow_short)
        return direction * confidence if self.scale_by_confidence else direction

    def targets(self, candles: pd.DataFrame) -> Array:
        matrix = np.column_stack([s.compute(candles) for s in self.signals])
        direction, confidence = self.voter.vote(matrix)
        direction = apply_filters(direction, [f.allowed(candles) for f in self.filters if f.enabled])
        return self._target(direction, np.where(direction == 0, 0.0, confidence))

    def new_state(self) -> tuple[list[Stepper], list[FilterStep]]:
        return [s.stepper() for s in self.signals], [f.stepper() for f in self.filters if f.enabled]

    def on_bar(self, bar: Bar, state: tuple[list[Stepper], list[FilterStep]]) -> TargetPosition:
        steppers, filter_steps = state
        values = np.array([[np.nan if (v := s.update(bar)) is None else v for s in steppers]])
        direction, confidence = self.voter.vote(values)
        allowed = [np.array([f.update(bar)], dtype=float) for f in filter_steps]
        direction = apply_filters(direction, allowed)
        target = float(self._target(direction, np.where(direction == 0, 0.0, confidence))[0])
        names = ",".join(s.name for s in self.signals)
        return TargetPosition(bar.product_id, target, float(confidence[0]), f"{self.voter.method} vote of {names}")


@dataclass
class _BreakoutState:
    highs: deque[float]
    quiet: int = 0  # bars left before the next entry may be signalled


@dataclass(frozen=True)
class BreakoutBracket:
    """On a close above the highest high of the `lookback` bars before it, buy with a limit at that close
    (working for `expire_bars` bars), with a take-profit `take_profit` above and a stop `stop_loss` below
    the limit attached; then stay quiet for `lookback` bars."""

    lookback: int = 20
    take_profit: float = 0.02
    stop_loss: float = 0.01
    expire_bars: int = 3
    fraction: float = 1.0
    name: str = "breakout"

    def __post_init__(self) -> None:
        if not isinstance(self.lookback, int) or self.lookback < 2:
            raise ValueError(f"lookback must be a whole number >= 2, got {self.lookback!r}")
        for label, value in (("take_profit", self.take_profit), ("stop_loss", self.stop_loss)):
            if not 0 < value < 1:
                raise ValueError(f"{label} must be a share in (0, 1), got {value}")

    @property
    def warmup(self) -> int:
        return self.lookback + 1

    def new_state(self) -> _BreakoutState:
        return _BreakoutState(deque(maxlen=self.lookback))

    def indicators(self, candles: pd.DataFrame) -> dict[str, pd.Series]:
        """The high a close must clear (the highest of the `lookback` bars before), for the price chart."""
        return {f"{self.lookback}-bar high": candles["high"].astype(float).rolling(self.lookback).max().shift(1)}

    def on_bar(self, bar: Bar, state: _BreakoutState) -> tuple[OrderIntent, ...]:
        full = len(state.highs) == self.lookback
        breakout = full and state.quiet == 0 and bar.close > max(state.highs)
        state.highs.append(bar.high)
        state.quiet = max(state.quiet - 1, 0)
        if not breakout:
            return ()
        state.quiet = self.lookback
        return (
            OrderIntent(
                bar.product_id,
                Side.BUY,
                OrderType.LIMIT,
                self.fraction,
                limit_price=bar.close,
                take_profit=bar.close * (1 + self.take_profit),
                stop_loss=bar.close * (1 - self.stop_loss),
                expire_bars=self.expire_bars,
                reason=f"close above the {self.lookback}-bar high",
            ),
        )


@dataclass
class _BaselineState:
    cross: Stepper
    rsi: RSI
    direction: float = 0.0


@dataclass(frozen=True)
class Baseline:
    """The dev profile's strategy: buy at market when the fast average crosses above the slow one while RSI
    is not overbought, with a take-profit / stop-loss bracket attached; sell what is held when it crosses
    back below while RSI is not oversold."""

    fast: int = 5
    slow: int = 20
    rsi_period: int = 14
    rsi_overbought: float = 70.0
    rsi_oversold: float = 30.0
    stop_loss: float = 0.02
    take_profit: float = 0.04
    name: str = "baseline"

    def __post_init__(self) -> None:
        MovingAverageCrossSignal(self.fast, self.slow)  # checks fast < slow
        if not 0 < self.rsi_oversold < self.rsi_overbought < 100:
            raise ValueError(
                f"need 0 < rsi_oversold ({self.rsi_oversold}) < rsi_overbought ({self.rsi_overbought}) < 100"
            )
        for label, value in (("stop_loss", self.stop_loss), ("take_profit", self.take_profit)):
            if not 0 < value < 1:
                raise ValueError(f"{label} must be a share in (0, 1), got {value}")

    @property
    def warmup(self) -> int:
        return max(self.slow, self.rsi_period + 1)

    def new_state(self) -> _BaselineState:
        return _BaselineState(MovingAverageCrossSignal(self.fast, self.slow).stepper(), RSI(self.rsi_period))

    def on_bar(self, bar: Bar, state: _BaselineState) -> tuple[OrderIntent, ...]:
        direction = state.cross.update(bar) or 0.0
        strength = state.rsi.update(bar.close)
        crossed, state.direction = direction != state.direction, direction
        if not crossed or strength is None:
            return ()
        if direction > 0 and strength < self.rsi_overbought:
            return (
                OrderIntent(
                    bar.product_id,
                    Side.BUY,
                    take_profit=bar.close * (1 + self.take_profit),
                    stop_loss=bar.close * (1 - self.stop_loss),
                    reason=f"sma{self.fast} crossed above sma{self.slow}, rsi {strength:.1f}",
                ),
            )
        if direction < 0 and strength > self.rsi_oversold:
            return (OrderIntent(bar.product_id, Side.SELL, reason=f"sma{self.fast} crossed below sma{self.slow}"),)
        return ()
