"""One SQLite file per profile, in WAL mode, shared by the event and orders stores.

WAL lets a notebook or `gpttrader events tail` read while the bot writes. `synchronous=FULL` makes a
commit durable before it returns, which is the promise the stores make to their callers: once a write
returned, a crash (even of the machine) does not lose it.
"""

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gpttrader.store.schema import migrate

DATABASE_FILE = "gpttrader.sqlite"


class Database:
    """A connection with a lock, so the stores can be shared by the bot's threads and its event loop."""

    def __init__(self, path: Path, *, busy_timeout_ms: int = 10_000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.execute("PRAGMA foreign_keys = ON")
        migrate(self._conn)

    @classmethod
    def for_state_dir(cls, state_dir: Path) -> "Database":
        return cls(state_dir / DATABASE_FILE)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, committed (and so durable) when the block exits without an exception."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def quick_check(path: Path) -> str | None:
    """What is wrong with the SQLite file at `path` (an existing file), or None when it passes `PRAGMA
    quick_check`. Run at start because damage found mid-run ("malformed") stops a bot halfway through."""
    try:
        conn = sqlite3.connect(path.absolute().as_uri() + "?mode=rw", uri=True)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"cannot be read by SQLite ({exc})"
    found = [str(row[0]) for row in rows]
    if found == ["ok"]:
        return None
    return "fails SQLite's integrity check: " + "; ".join(found)[:500]
