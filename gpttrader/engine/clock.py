"""The bot's clock: the wall clock live and in paper, a fast one for the dev smoke run and tests.

Only the clock differs between a fast run and a real one: a cycle asks it for the time and to sleep until
the next cycle, and a fast clock jumps there at once.
"""

import threading
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep_until(self, moment: datetime, stop: threading.Event) -> bool:
        """Wait until `moment`; False if `stop` was set first."""
        ...


class WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep_until(self, moment: datetime, stop: threading.Event) -> bool:
        return not stop.wait(max((moment - self.now()).total_seconds(), 0.0))


class FastClock:
    """Simulated time that starts at `start` and jumps to each moment it is asked to sleep until."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock's start must be timezone-aware")
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def sleep_until(self, moment: datetime, stop: threading.Event) -> bool:
        if stop.is_set():
            return False
        with self._lock:
            self._now = max(self._now, moment)
        return True


class PacedClock:
    """A simulated clock (fast, or a sandbox's virtual one) held to a pace a person can watch: each sleep
    waits `seconds` on the wall, then jumps. The control panel runs its demo sessions on it."""

    def __init__(self, inner: Clock, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"pace seconds must be >= 0, got {seconds}")
        self._inner = inner
        self.seconds = seconds

    def now(self) -> datetime:
        return self._inner.now()

    def sleep_until(self, moment: datetime, stop: threading.Event) -> bool:
        if stop.wait(self.seconds):
            return False
        return self._inner.sleep_until(moment, stop)
