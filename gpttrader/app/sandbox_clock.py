"""The bot's clock tied to a sandbox's virtual clock: sleeping until the next cycle moves the exchange
there too, so a paper or canary session of hours runs in seconds, in step with the market. In the same
process the sandbox is driven directly; from another process, through its loopback admin API."""

import threading
from datetime import UTC, datetime
from pathlib import Path

import requests

from gpttrader.brokers.coinbase.transport import trust_certificate
from gpttrader.sandbox import RunningSandbox


class SandboxClock:
    def __init__(self, sandbox: RunningSandbox, *, drive: bool = True) -> None:
        """`drive`: sleeping moves the sandbox's clock; without it, something else moves it (a benchmark's
        driver) and sleeping waits, on the wall, until the sandbox's clock gets there."""
        if not sandbox.wall.is_virtual:
            raise ValueError("the sandbox runs on the real clock; start it with virtual_start to drive it")
        self._sandbox = sandbox
        self._drive = drive

    def now(self) -> datetime:
        return self._sandbox.wall.utc()

    def sleep_until(self, moment: datetime, stop: threading.Event) -> bool:
        if not self._drive:
            while self.now() < moment:
                if stop.wait(0.01):
                    return False
            return True
        if stop.is_set():
            return False
        self._sandbox.advance_to(moment)
        return True


class RemoteSandboxClock:
    def __init__(self, base_url: str, certificate: Path | None = None) -> None:
        """`base_url`: the sandbox's https://host:port."""
        self._url = base_url.rstrip("/") + "/sandbox/admin/time"
        self._session = requests.Session()
        if certificate is not None:
            trust_certificate(self._session, base_url.split("://", 1)[-1], certificate)
        if not self._call("GET")["virtual"]:
            raise ValueError("the sandbox runs on the real clock; start it with a virtual clock to drive it")

    def now(self) -> datetime:
        return datetime.fromtimestamp(float(self._call("GET")["now"]), UTC)

    def sleep_until(self, moment: datetime, stop: threading.Event) -> bool:
        if stop.is_set():
            return False
        self._call("POST", {"advance_to": moment.timestamp()})
        return True

    def _call(self, method: str, body: dict[str, float] | None = None) -> dict[str, float]:
        response = self._session.request(method, self._url, json=body, timeout=10)
        response.raise_for_status()
        answer: dict[str, float] = response.json()
        return answer
