"""The strategy's side of a cycle: closed bars of the strategy's granularity in, decisions out, one product
at a time.

The bars are the exchange's candles at that granularity, as the backtest reads them (through the same
endpoint, into the parquet cache): building an hour from sixty one-minute candles would give the same
values only while no minute is missing or revised, and would cost sixty times the reads.

A bar is closed once its end is at or before the exchange's time (the bot's clock corrected by the measured
skew): Coinbase serves the bar still forming as the last candle, and a bot whose clock runs ahead would
otherwise decide on it and never see the finished bar. A bar not yet closed is read again next cycle.

The last few accepted bars are read again with every request: the exchange may still revise a bar after it
closed (a late trade). A revision is recorded (`bar.revised`), never decided again, since the decision on
the bar has gone out.

At start the strategy is warmed up on the bars before the last closed one, so that its first decision is
on a bar it has not acted on before a restart only if nothing was decided on it (the client order id of
a decision is derived from its bar, so a decision made twice is sent once).
"""

from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime

import numpy as np

from gpttrader.brokers.protocol import Broker
from gpttrader.domain import Candle, Granularity
from gpttrader.domain.events import EventType
from gpttrader.engine.history import closed_candles, warm_up_bars
from gpttrader.engine.skew import ClockSkew
from gpttrader.marketdata.cache import CandleCache
from gpttrader.risk.metrics import annualized_volatility
from gpttrader.store import EventStore
from gpttrader.strategy import Bar, OrderStrategy, Strategy
from gpttrader.strategy.timeframes import Decision, Stepper

REREAD_BARS = 3  # how far back an accepted bar is still checked for a revision


class StrategyCoordinator:
    def __init__(
        self,
        strategy: Strategy | OrderStrategy,
        broker: Broker,
        symbols: Sequence[str],
        volatility_window: int = 20,
        *,
        granularity: Granularity,
        skew: ClockSkew,
        events: EventStore,
        run_id: str | None = None,
        cache: CandleCache | None = None,
    ) -> None:
        self.strategy = strategy
        # The venue's candle cache the start reads through (the warm-up and the sizing seed); each cycle's
        # bars come from the venue itself, which may still revise the last ones.
        self.cache = cache
        self.granularity = granularity
        self.bar = granularity.width
        self.skew = skew
        self._broker = broker
        self._events, self._run_id = events, run_id
        self._symbols = list(symbols)
        self._steppers = {pid: Stepper(strategy, self.bar) for pid in symbols}  # with its wider bars, if any
        self._last: dict[str, datetime | None] = dict.fromkeys(symbols)
        self._accepted: dict[str, dict[datetime, Candle]] = {pid: {} for pid in symbols}
        self._closes: dict[str, deque[float]] = {pid: deque(maxlen=volatility_window + 1) for pid in symbols}
        self._window = volatility_window
        self._reread = self.bar * REREAD_BARS
        # Each closed bar's close also goes here: the risk manager's regime detector, wired at start
        # (gpttrader.engine.edge_seed), so that sizing reads the regime of the strategy's own bars.
        self.on_close: Callable[[str, datetime, float], object] | None = None

    def warm_up(self, now: datetime) -> int:
        """Feed the closed bars before the last closed one to the strategy without acting; returns how many.
        A warm-up of any length is read in pages, through the cache."""
        fed = 0
        exchange_now = self.skew.exchange_time(now)
        start = self.granularity.bucket(exchange_now) - self.bar * warm_up_bars(self.strategy.warmup, self._window)
        for pid in self._symbols:
            history = closed_candles(self._broker, pid, self.granularity, start, exchange_now, self.cache)
            for candle in history[:-1]:
                self._decide(pid, candle)
                self._accept(pid, candle)
                fed += 1
        return fed

    def new_bars(self, now: datetime) -> list[tuple[Bar, Decision]]:
        """Every bar closed since the last cycle, with the strategy's decision on it, oldest first."""
        decided: list[tuple[Bar, Decision]] = []
        exchange_now = self.skew.exchange_time(now)
        for pid in self._symbols:
            last = self._last[pid]
            start = (
                self.granularity.bucket(exchange_now) - self.bar * 2 if last is None else last - self._reread + self.bar
            )
            for candle in closed_candles(self._broker, pid, self.granularity, start, exchange_now):
                if last is not None and candle.time <= last:
                    self._check_revision(pid, candle, now)
                    continue
                decided.append(self._decide(pid, candle))
                self._accept(pid, candle)
        decided.sort(key=lambda item: item[0].time)
        return decided

    def volatility(self, product_id: str) -> float:
        """Annualized volatility of the product's last closes (NaN until the window is full)."""
        closes = self._closes[product_id]
        if len(closes) <= self._window:
            return float("nan")
        return float(annualized_volatility(np.array(closes), self._window, self.bar.total_seconds())[-1])

    def _accept(self, pid: str, candle: Candle) -> None:
        """Remember a bar decided on, and forget those too old to be read again."""
        self._last[pid] = candle.time
        accepted = self._accepted[pid]
        accepted[candle.time] = candle
        for time in [t for t in accepted if t <= candle.time - self._reread]:
            del accepted[time]

    def _check_revision(self, pid: str, candle: Candle, now: datetime) -> None:
        """Record a bar the exchange changed after the strategy decided on it (or one that first appeared
        late, for a minute that had no trades when it was read)."""
        old = self._accepted[pid].get(candle.time)
        if old == candle:
            return
        self._accepted[pid][candle.time] = candle
        payload = {"product_id": pid, "time": candle.time, "old": None if old is None else _values(old)}
        self._events.append(EventType.BAR_REVISED, {**payload, "new": _values(candle)}, run_id=self._run_id, time=now)

    def _decide(self, pid: str, candle: Candle) -> tuple[Bar, Decision]:
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
        if self.on_close is not None:
            self.on_close(pid, bar.time, bar.close)
        return bar, self._steppers[pid].step(bar)


def _values(candle: Candle) -> dict[str, str]:
    return {name: str(getattr(candle, name)) for name in ("open", "high", "low", "close", "volume")}
