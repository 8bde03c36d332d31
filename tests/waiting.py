"""Waiting on a condition in tests that run against real threads and sockets: a fixed sleep is either
too long everywhere or too short on a loaded CI machine, so tests poll with a generous deadline."""

import time
from collections.abc import Callable


def wait_for(check: Callable[[], bool], timeout: float = 15.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out after {timeout:g}s waiting for {what}"
        time.sleep(0.02)
