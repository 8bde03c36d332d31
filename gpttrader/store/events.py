"""The append-only event store: every intent, decision, guard event and state change, in order."""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gpttrader.domain.events import EventType, check_payload
from gpttrader.store import codec
from gpttrader.store.database import Database


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    time: datetime
    type: EventType
    run_id: str | None
    payload: dict[str, Any]


class EventStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def append(
        self,
        type: EventType,
        payload: Mapping[str, Any],
        *,
        run_id: str | None = None,
        time: datetime | None = None,
    ) -> Event:
        """Write one event; it is committed when this returns, so the caller may act on it. A payload that is
        not its type's shape (gpttrader.domain.events) is refused before anything is written."""
        check_payload(type, payload)
        moment = time or codec.utc_now()
        body = codec.dumps(payload)
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO events (time, type, run_id, payload) VALUES (?, ?, ?, ?)",
                (codec.format_time(moment), type, run_id, body),
            )
        return Event(
            int(cursor.lastrowid or 0), codec.parse_time(codec.format_time(moment)), type, run_id, codec.loads(body)
        )

    def tail(self, limit: int = 20, *, types: Sequence[EventType] | None = None) -> list[Event]:
        """The latest `limit` events, oldest first, so they read like a log."""
        where, params = _filters(types, None, 0)
        with self._db.reading() as conn:
            rows = conn.execute(
                f"SELECT id, time, type, run_id, payload FROM events {where} ORDER BY id DESC LIMIT ?",
                (*params, limit),
            ).fetchall()
        return [_event(row) for row in reversed(rows)]

    def latest(self, type: EventType) -> dict[str, Any] | None:
        """The payload of the newest event of `type`, for state kept as events (the risk trading state)."""
        found = self.tail(1, types=[type])
        return found[0].payload if found else None

    def read(
        self,
        *,
        after_id: int = 0,
        types: Sequence[EventType] | None = None,
        run_id: str | None = None,
        batch: int = 1000,
    ) -> Iterator[Event]:
        """Every event after `after_id`, in order, read in batches so a long history never sits in memory."""
        last = after_id
        while True:
            where, params = _filters(types, run_id, last)
            with self._db.reading() as conn:
                rows = conn.execute(
                    f"SELECT id, time, type, run_id, payload FROM events {where} ORDER BY id LIMIT ?",
                    (*params, batch),
                ).fetchall()
            if not rows:
                return
            for row in rows:
                yield _event(row)
            last = rows[-1][0]

    def count(self) -> int:
        with self._db.reading() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])


def _filters(types: Sequence[EventType] | None, run_id: str | None, after_id: int) -> tuple[str, list[object]]:
    clauses = ["id > ?"]
    params: list[object] = [after_id]
    if types:
        clauses.append(f"type IN ({', '.join('?' for _ in types)})")
        params.extend(types)
    if run_id is not None:
        clauses.append("run_id = ?")
        params.append(run_id)
    return "WHERE " + " AND ".join(clauses), params


def _event(row: tuple[Any, ...]) -> Event:
    # Types are stored as their values: a row of any store reads back as its catalogue member.
    return Event(int(row[0]), codec.parse_time(row[1]), EventType(row[2]), row[3], codec.loads(row[4]))
