"""Feeding a strategy its bars, one at a time, the same way in the backtest's step mode, paper and live.

A strategy decides on bars of one width (its configuration's `granularity`). It may also watch wider bars
(a daily trend filter over hourly decisions): it declares them as `higher_timeframes` and receives each in
`on_higher_bar(bar, granularity, state)`. Those are built here from the strategy's own bars, so that a
higher bar is the same in every mode and becomes visible only once it has closed: with the bar that ends
its bucket, before that bar's `on_bar`; or, when the bucket's last bars are missing (no trades), with the
first bar of a later bucket. Built from the same bars, never read from a wider candle that a backtest would
have whole at its start. The bucket the first bar falls in is not delivered unless that bar opens it: a
history starting mid-bucket (a backtest's first row, a live warm-up's) would otherwise make a partial bar
that depends on where the history starts.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from gpttrader.domain import Granularity
from gpttrader.strategy.base import Bar, Intent, OrderStrategy, Strategy, TargetPosition

Decision = TargetPosition | tuple[Intent, ...]


@runtime_checkable
class WatchesHigherTimeframes(Protocol):
    """What a strategy adds to watch wider bars than it decides on."""

    @property
    def higher_timeframes(self) -> Sequence[Granularity]: ...

    def on_higher_bar(self, bar: Bar, granularity: Granularity, state: Any) -> None:
        """A closed bar of `granularity`, before the `on_bar` of the bar that closed it."""
        ...


def higher_timeframes(strategy: Strategy | OrderStrategy) -> tuple[Granularity, ...]:
    return tuple(strategy.higher_timeframes) if isinstance(strategy, WatchesHigherTimeframes) else ()


@dataclass(frozen=True, slots=True)
class _Forming:
    start: datetime
    bar: Bar  # the bucket's bars so far, merged, stamped with the bucket's start
    partial: bool = False  # the history began inside the bucket: never delivered


class HigherBars:
    """One product's wider bars, built from its bars of width `bar` as they come."""

    def __init__(self, bar: timedelta, higher: Sequence[Granularity]) -> None:
        for granularity in higher:
            width = granularity.width
            if width <= bar or width % bar:
                raise ValueError(
                    f"higher timeframe {granularity.value} must be a whole multiple of the strategy's bars "
                    f"({bar.total_seconds():g} s), and wider"
                )
        self.bar = bar
        self.higher = tuple(sorted(set(higher), key=lambda g: g.seconds))
        self._forming: dict[Granularity, _Forming] = {}
        self._started: set[Granularity] = set()

    def add(self, bar: Bar) -> list[tuple[Granularity, Bar]]:
        """The wider bars that closed with `bar`, narrowest first."""
        closed: list[tuple[Granularity, Bar]] = []
        for granularity in self.higher:
            start = granularity.bucket(bar.time)
            forming = self._forming.pop(granularity, None)
            if forming is not None and forming.start != start:  # its last bars never came; `bar` is later
                if not forming.partial:
                    closed.append((granularity, forming.bar))
                forming = None
            if forming is None:
                partial = granularity not in self._started and bar.time != start
                self._started.add(granularity)
                forming = _Forming(start, bar._replace(time=start), partial)
            else:
                forming = replace(forming, bar=_merge(forming.bar, bar))
            if bar.time + self.bar < start + granularity.width:
                self._forming[granularity] = forming
            elif not forming.partial:
                closed.append((granularity, forming.bar))
        return closed


def _merge(so_far: Bar, bar: Bar) -> Bar:
    return so_far._replace(
        high=max(so_far.high, bar.high),
        low=min(so_far.low, bar.low),
        close=bar.close,
        volume=so_far.volume + bar.volume,
    )


class Stepper:
    """One product's strategy state, fed bar by bar: the wider bars each bar closed first, then the bar."""

    def __init__(self, strategy: Strategy | OrderStrategy, bar: timedelta) -> None:
        self.strategy = strategy
        self.state = strategy.new_state()
        higher = higher_timeframes(strategy)
        self._higher = HigherBars(bar, higher) if higher else None

    def step(self, bar: Bar) -> Decision:
        if self._higher is not None:
            assert isinstance(self.strategy, WatchesHigherTimeframes)
            for granularity, wider in self._higher.add(bar):
                self.strategy.on_higher_bar(wider, granularity, self.state)
        return self.strategy.on_bar(bar, self.state)
