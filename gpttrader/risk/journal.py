"""Where the risk manager writes its decisions: the event store live and in paper, a list in a backtest.

The manager also reads its last trading state back from here at start, so a restart keeps reduce-only or
halted; that is why the journal, not a separate flag file, is the state's only home.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from gpttrader.domain.events import EventType, check_payload


class RiskJournal(Protocol):
    def append(
        self,
        type: EventType,
        payload: Mapping[str, Any],
        *,
        run_id: str | None = None,
        time: datetime | None = None,
    ) -> object: ...

    def latest(self, type: EventType) -> dict[str, Any] | None: ...


@dataclass(frozen=True, slots=True)
class RiskEvent:
    time: datetime | None
    type: EventType
    payload: dict[str, Any]


@dataclass
class MemoryJournal:
    events: list[RiskEvent] = field(default_factory=list)

    def append(
        self,
        type: EventType,
        payload: Mapping[str, Any],
        *,
        run_id: str | None = None,
        time: datetime | None = None,
    ) -> RiskEvent:
        """Held to the same payload shapes as the event store, so a backtest catches what live would refuse."""
        check_payload(type, payload)
        event = RiskEvent(time, type, dict(payload))
        self.events.append(event)
        return event

    def latest(self, type: EventType) -> dict[str, Any] | None:
        return next((e.payload for e in reversed(self.events) if e.type == type), None)
