"""The sandbox's idea of now: the real clock, or a virtual one that only moves when told to.

A virtual clock lets a test run an hour of trading in seconds: the bot's clock and the exchange's move
together (see `RunningSandbox.advance_to`), every candle, quote and fill is stamped with the virtual time,
and nothing waits on the wall. Authentication is the exception: the SDK signs its tokens with the real
time, so they are checked against the real time.
"""

import threading
import time
from datetime import UTC, datetime


class WallTime:
    def __init__(self, virtual_start: float | None = None) -> None:
        self._virtual = virtual_start
        self._lock = threading.Lock()

    @property
    def is_virtual(self) -> bool:
        return self._virtual is not None

    def now(self) -> float:
        if self._virtual is None:
            return time.time()
        with self._lock:
            return self._virtual

    def utc(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def advance_to(self, epoch: float) -> None:
        """Move a virtual clock forward to `epoch` (never back)."""
        if self._virtual is None:
            raise RuntimeError("only a virtual clock can be moved")
        with self._lock:
            self._virtual = max(self._virtual, epoch)
