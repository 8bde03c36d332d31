"""The strategy's side of a cycle: closed one-minute bars in, decisions out, one product at a time.

At start the strategy is warmed up on the bars before the last closed one, so that its first decision is
on a bar it has not acted on before a restart only if nothing was decided on it (the client order id of
a decision is derived from its bar, so a decision made twice is sent once).
"""

from collections import deque
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from gpttrader.brokers.protocol import Broker
from gpttrader.domain import Granularity
from gpttrader.risk.metrics import annualized_volatility
from gpttrader.strategy import Bar, OrderIntent, OrderStrategy, Strategy, TargetPosition

MINUTE = timedelta(minutes=1)
Decision = TargetPosition | tuple[OrderIntent, ...]


class StrategyCoordinator:
    def __init__(
        self, strategy: Strategy | OrderStrategy, broker: Broker, symbols: Sequence[str], volatility_window: int = 20
    ) -> None:
        self.strategy = strategy
        self._broker = broker
        self._symbols = list(symbols)
        self._state: dict[str, Any] = {pid: strategy.new_state() for pid in symbols}
        self._last: dict[str, datetime | None] = dict.fromkeys(symbols)
        self._closes: dict[str, deque[float]] = {pid: deque(maxlen=volatility_window + 1) for pid in symbols}
        self._window = volatility_window

    def warm_up(self, now: datetime) -> int:
        """Feed the bars before the last closed one to the strategy without acting; returns how many."""
        fed = 0
        start = _minute(now) - MINUTE * (self.strategy.warmup + self._window + 2)
        for pid in self._symbols:
            history = self._broker.candles(pid, Granularity.ONE_MINUTE, start, _minute(now))
            for candle in history[:-1]:
                self._decide(pid, candle)
                fed += 1
            if len(history) > 1:
                self._last[pid] = history[-2].time
        return fed

    def new_bars(self, now: datetime) -> list[tuple[Bar, Decision]]:
        """Every bar closed since the last cycle, with the strategy's decision on it, oldest first."""
        decided: list[tuple[Bar, Decision]] = []
        for pid in self._symbols:
            last = self._last[pid]
            start = _minute(now) - MINUTE * 2 if last is None else last + MINUTE
            for candle in self._broker.candles(pid, Granularity.ONE_MINUTE, start, _minute(now)):
                decided.append(self._decide(pid, candle))
                self._last[pid] = candle.time
        decided.sort(key=lambda item: item[0].time)
        return decided

    def volatility(self, product_id: str) -> float:
        """Annualized volatility of the product's last closes (NaN until the window is full)."""
        closes = self._closes[product_id]
        if len(closes) <= self._window:
            return float("nan")
        return float(annualized_volatility(np.array(closes), self._window, 60.0)[-1])

    def _decide(self, pid: str, candle: Any) -> tuple[Bar, Decision]:
        bar = Bar(
            pid,
            candle.time,
            float(candle.open),
            float(candle.high),
            float(candle.low),
            float(candle.close),
            float(candle.volume),
        )
        self._closes[pid].append(bar.close)
        return bar, self.strategy.on_bar(bar, self._state[pid])


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)
