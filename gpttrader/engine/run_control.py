"""Whether the bot's loop goes on, whether it acts on its strategy's decisions, and when its next cycle is due.

Stopping and pausing are asked from other threads (a signal handler, the panel's worker) while a cycle runs;
the wake event lets the feed (a bar closed, an order changed) or a stop end the wait between cycles early.
A pause is an operator's action, so it is recorded.
"""

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from gpttrader.domain.events import EventType
from gpttrader.engine.clock import Clock
from gpttrader.store import EventStore

WAKE_MARGIN = timedelta(seconds=1)  # after a bar's end, for the exchange to serve it closed


class RunControl:
    def __init__(self, events: EventStore, clock: Clock, *, run_id: str | None = None) -> None:
        self._events, self._clock, self._run_id = events, clock, run_id
        self._stop = threading.Event()
        self.wake = threading.Event()  # set by stop() and by the feed (a bar closed, an order changed)
        self.paused = False

    @property
    def running(self) -> bool:
        return not self._stop.is_set()

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()

    def pause(self, *, operator: str) -> None:
        """Stop acting on the strategy's decisions; marks, fills, guards and alerts go on, so a paused bot is
        still watched, and its working orders (brackets included) still work. Recorded."""
        self.paused = True
        self._events.append(EventType.BOT_PAUSED, {"operator": operator}, run_id=self._run_id, time=self._clock.now())

    def resume(self, *, operator: str) -> None:
        self.paused = False
        self._events.append(EventType.BOT_RESUMED, {"operator": operator}, run_id=self._run_id, time=self._clock.now())

    def wait(self, due: Callable[[datetime], datetime]) -> bool:
        """Whether another cycle is due, after sleeping until `due(now)` (a wake or `stop()` ends it early)."""
        if not self.running:
            return False
        self.wake.clear()
        self._clock.sleep_until(due(self._clock.now()), self.wake)
        return self.running


def next_cycle(now: datetime, *, interval_seconds: int, ahead: timedelta) -> datetime:
    """The next interval boundary on the exchange's clock, a second late so that the bar that just closed
    there is served, told on the bot's clock (later by the measured skew `ahead` when the bot runs ahead)."""
    exchange = (now - ahead).timestamp()
    boundary = datetime.fromtimestamp((exchange // interval_seconds + 1) * interval_seconds, tz=now.tzinfo)
    return boundary + ahead + WAKE_MARGIN
