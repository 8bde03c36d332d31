"""Hot reload: a running bot re-reads its profile when asked (`gpttrader config reload`, recorded in the
event store so a bot in another process sees it; or SIGHUP) and takes the new protections at once when
they only tighten. A change that loosens one needs an operator's reason, recorded with it; a change that
needs a restart (symbols, the strategy, how orders are sent), or a file that does not load, is refused whole
and the running configuration kept. Each outcome is an event naming the request it answers.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gpttrader.config import BotConfig, ConfigError
from gpttrader.config.changes import Changes, compare
from gpttrader.domain.events import EventType
from gpttrader.store import EventStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    applied: bool
    message: str
    config: BotConfig | None = None  # the configuration to take (None: refused, or nothing changed)


class Reloader:
    def __init__(self, load: Callable[[], BotConfig], events: EventStore, *, run_id: str | None = None) -> None:
        self._load, self._events, self._run_id = load, events, run_id
        self.version = 1  # of the configuration in force: the panel shows it, each reload counts one up
        # Requests made before this bot started were answered by the load it started with.
        self._seen = max((e.id for e in events.tail(1, types=[EventType.CONFIG_RELOAD_REQUESTED])), default=0)
        self._signalled = False

    def signal(self) -> None:
        """SIGHUP: a request with no operator's reason (so one that loosens is refused). Safe in a handler."""
        self._signalled = True

    def take(self, current: BotConfig, now: datetime) -> BotConfig | None:
        """Answer each request made since the last look, in order (each with its own reason); the configuration
        to take when one of them changed it, else None."""
        if self._signalled:
            self._signalled = False
            self._events.append(
                EventType.CONFIG_RELOAD_REQUESTED, {"operator": "SIGHUP", "reason": None}, run_id=self._run_id, time=now
            )
        taken = None
        for request in list(self._events.read(after_id=self._seen, types=[EventType.CONFIG_RELOAD_REQUESTED])):
            self._seen = request.id
            outcome = self._answer(current, request.payload)
            payload: dict[str, Any] = {
                "request": request.id,
                "operator": request.payload.get("operator"),
                "reason": request.payload.get("reason"),
                "message": outcome.message,
            }
            if outcome.config is not None:
                self.version += 1
                current = taken = outcome.config
            if outcome.applied:
                payload["version"] = self.version
            self._events.append(
                EventType.CONFIG_RELOADED if outcome.applied else EventType.CONFIG_RELOAD_REFUSED,
                payload,
                run_id=self._run_id,
                time=now,
            )
            (log.info if outcome.applied else log.warning)("configuration reload: %s", outcome.message)
        return taken

    def _answer(self, current: BotConfig, request: dict[str, Any]) -> Outcome:
        try:
            new = self._load()
        except ConfigError as exc:
            return Outcome(False, f"the profile does not load; the running configuration is kept: {exc}")
        except Exception as exc:  # whatever a file does to the loader, a reload never stops the running bot
            log.exception("reading the profile for a reload failed")
            kept = "the running configuration is kept"
            return Outcome(False, f"the profile does not load ({type(exc).__name__}); {kept}")
        changes = compare(current, new)
        if changes.restart:
            return Outcome(False, "needs a restart, nothing applied: " + _lines(changes.restart))
        if changes.loosened and not str(request.get("reason") or "").strip():
            refused = "loosens protections and gives no reason, nothing applied: "
            return Outcome(False, refused + _lines(changes.loosened))
        if not changes.any:
            return Outcome(True, "no change")
        return Outcome(True, _summary(changes), new)


def _lines(changes: list[Any]) -> str:
    return "; ".join(c.line() for c in changes)


def _summary(changes: Changes) -> str:
    parts = [
        f"{label}: {_lines(found)}"
        for label, found in (("tightened", changes.tightened), ("loosened", changes.loosened))
        if found
    ]
    return "; ".join(parts)
