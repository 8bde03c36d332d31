"""The strategy decides on closed bars only, against the sandbox through the Coinbase adapter.

Coinbase serves the bar still forming as the last candle, as the sandbox does. The bot's clock here runs
2 s ahead of the exchange's (preflight allows 5 s): woken a second after its own minute, the bot is still
in the exchange's previous minute. It must judge a bar closed by the exchange's time, decide on each bar
once with its final values, and record a bar the exchange revised after it was decided on.
"""

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.domain import Candle, Granularity
from gpttrader.domain.events import EventType
from gpttrader.engine.bot import TradingBot
from gpttrader.sandbox import RunningSandbox
from gpttrader.strategy import Bar, OrderIntent
from tests.integration.engine.sessions import START, canary

AHEAD = timedelta(seconds=2)
MINUTE = timedelta(minutes=1)
PID = "BTC-USD"


class AheadClock:
    """The bot's clock, `ahead` of the sandbox's virtual one, which it drives."""

    def __init__(self, sandbox: RunningSandbox, ahead: timedelta) -> None:
        self._inner, self._ahead = SandboxClock(sandbox), ahead

    def now(self) -> datetime:
        return self._inner.now() + self._ahead

    def sleep_until(self, moment: datetime, stop: threading.Event) -> bool:
        return self._inner.sleep_until(moment - self._ahead, stop)


@dataclass
class Watcher:
    """Decides nothing; keeps every bar it is given and the exchange's time when it was given."""

    sandbox: RunningSandbox
    name: str = "watcher"
    warmup: int = 1
    seen: list[tuple[Bar, datetime]] = field(default_factory=list)

    def new_state(self) -> None:
        return None

    def on_bar(self, bar: Bar, state: None) -> tuple[OrderIntent, ...]:
        self.seen.append((bar, self.sandbox.wall.utc()))
        return ()

    def bars(self) -> list[Bar]:
        return [bar for bar, _ in self.seen]


def final_bars(container: ApplicationContainer, first: datetime, last: datetime) -> dict[datetime, Candle]:
    """The exchange's closed bars from `first` to `last`, read once they can no longer change."""
    candles = container.broker.candles(PID, Granularity.ONE_MINUTE, first, last + MINUTE)
    return {c.time: c for c in candles}


def as_bar(candle: Candle) -> Bar:
    values = (candle.open, candle.high, candle.low, candle.close, candle.volume)
    return Bar(PID, candle.time, *(float(v) for v in values))


def started(container: ApplicationContainer, watcher: Watcher) -> TradingBot:
    bot = container.create_bot(watcher)
    bot.bootstrap()
    return bot


@pytest.fixture
def clock(market: RunningSandbox) -> AheadClock:
    return AheadClock(market, AHEAD)


def test_every_bar_is_seen_once_with_its_final_values_soon_after_it_closed(
    market: RunningSandbox, clock: AheadClock, tmp_path: Path
) -> None:
    watcher = Watcher(market)
    with ApplicationContainer(canary(market, tmp_path), clock=clock) as container:
        bot = started(container, watcher)
        warmed = len(watcher.seen)
        bot.run(max_cycles=6)
        bot.shutdown()
        bars = watcher.bars()
        times = [bar.time for bar in bars]
        assert times == sorted(set(times)), "a bar was decided twice or out of order"
        assert times[-1] == START + 4 * MINUTE  # the bar that closed before the sixth cycle, none still forming
        final = final_bars(container, times[0], times[-1])
    assert bars == [as_bar(final[t]) for t in times]  # no forming bar's close, high, low or volume
    for bar, seen_at in watcher.seen[warmed:]:
        closed_at = bar.time + MINUTE
        assert closed_at <= seen_at < closed_at + timedelta(seconds=5), f"{bar.time} decided at {seen_at}"


def test_a_bar_still_forming_is_read_again_and_decided_once_it_closed(
    market: RunningSandbox, clock: AheadClock, tmp_path: Path
) -> None:
    watcher = Watcher(market)
    with ApplicationContainer(canary(market, tmp_path), clock=clock) as container:
        bot = started(container, watcher)
        bot.cycle()  # the exchange's 14:00:00: the 13:59 bar
        never = threading.Event()
        # A second after the bot's own minute, 2 s before the exchange's: the 14:00 bar is still forming.
        clock.sleep_until(START + MINUTE + timedelta(seconds=1), never)
        bot.cycle()
        forming = watcher.bars()[-1]
        clock.sleep_until(START + MINUTE + timedelta(seconds=3), never)  # the exchange's 14:01:01
        bot.cycle()
        bot.shutdown()
        final = final_bars(container, START, START)[START]
    assert forming.time == START - MINUTE, "the strategy was given the 14:00 bar before it closed"
    assert watcher.bars()[-1] == as_bar(final)


def test_a_bar_the_exchange_revised_is_recorded_and_not_decided_twice(
    market: RunningSandbox, clock: AheadClock, tmp_path: Path
) -> None:
    watcher = Watcher(market)
    with ApplicationContainer(canary(market, tmp_path), clock=clock) as container:
        bot = started(container, watcher)
        bot.run(max_cycles=3)  # the 14:00 bar decided on, and the 14:01 one
        before = final_bars(container, START, START)[START]
        late_trade(market, START, Decimal("0.5"))
        after = final_bars(container, START, START)[START]
        assert after.volume == before.volume + Decimal("0.5"), "the sandbox did not revise the bar"
        bot.run(max_cycles=5)  # the same minute read again, then the next one
        bot.shutdown()
        revised = [e.payload for e in container.event_store.read(types=[EventType.BAR_REVISED])]
    assert len(revised) == 1, revised
    assert revised[0]["product_id"] == PID
    assert datetime.fromisoformat(revised[0]["time"]) == START
    assert Decimal(revised[0]["old"]["volume"]) == before.volume
    assert Decimal(revised[0]["new"]["volume"]) == after.volume
    assert [bar for bar in watcher.bars() if bar.time == START] == [as_bar(before)]


def late_trade(sandbox: RunningSandbox, minute: datetime, size: Decimal) -> None:
    """A trade the exchange books into a minute already closed: that minute's volume grows."""
    path = sandbox.exchange.paths[PID]
    volumes = path._v.copy()  # the path's own array is a read-only view of its candles
    volumes[round(sandbox.exchange.clock.position(minute.timestamp()))] += float(size)
    path._v = volumes
