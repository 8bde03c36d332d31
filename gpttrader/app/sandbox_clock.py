"""The bot's clock tied to an in-process sandbox's virtual clock: sleeping until the next cycle moves the
exchange there too, so a paper or canary session of hours runs in seconds, in step with the market."""

import threading
from datetime import datetime

from gpttrader.sandbox import RunningSandbox


class SandboxClock:
    def __init__(self, sandbox: RunningSandbox) -> None:
        if not sandbox.wall.is_virtual:
            raise ValueError("the sandbox runs on the real clock; start it with virtual_start to drive it")
        self._sandbox = sandbox

    def now(self) -> datetime:
        return self._sandbox.wall.utc()

    def sleep_until(self, moment: datetime, stop: threading.Event) -> bool:
        if stop.is_set():
            return False
        self._sandbox.advance_to(moment)
        return True
