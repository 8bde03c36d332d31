"""The run registry: every notebook run, what it was given, how it ended and where its output is.

A run is written as `running` before its kernel starts, so a runner that dies leaves a row that says so
rather than nothing. While it runs, its runner holds an OS lock on `runs.sqlite-running/<id>.lock`; the OS
lets go of it when the runner dies, however it dies (SIGKILL, a crash, the machine going down), so a
`running` row whose lock is free is one whose runner is gone, and is marked `interrupted`. A row is not
judged by its age or a process id: a long run is not dead, and a process id can be reused.
"""

import fcntl
import sqlite3
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from gpttrader.store import codec
from gpttrader.store.database import Database, quick_check
from gpttrader.store.errors import StoreError

RUNS_FILE = "runs.sqlite"
STATUSES = ("running", "succeeded", "failed", "timed_out", "interrupted")
ENDINGS = ("succeeded", "failed", "timed_out")  # how a runner ends its own run; `interrupted` is set for it


@contextmanager
def open_registry(path: Path) -> Iterator["RunRegistry"]:
    """The registry in the SQLite file at `path` (created when missing). A damaged file is a StoreError that
    names it and the way out; an empty one (which SQLite would take for a new database) is refused rather than
    silently made into a new registry, so that a lost history is noticed."""
    if path.is_file():
        problem = "it is empty (truncated)" if path.stat().st_size == 0 else quick_check(path)
        if problem is not None:
            raise StoreError(_damaged(path, problem))
    try:
        database = Database(path)
    except sqlite3.DatabaseError as exc:
        raise _unusable(path, exc) from None
    try:
        yield RunRegistry(database)
    except sqlite3.DatabaseError as exc:  # damage that SQLite finds only when it reads the page
        raise _unusable(path, exc) from None
    finally:
        database.close()


def _unusable(path: Path, error: sqlite3.DatabaseError) -> StoreError:
    if isinstance(error, sqlite3.OperationalError):  # locked, unreadable, a folder: not damage
        return StoreError(f"{path}: cannot be used as the run registry: {error}")
    return StoreError(_damaged(path, str(error)))


def _damaged(path: Path, what: str) -> str:
    return (
        f"{path} is not a usable run registry ({what}). Restore it from a backup, or move it aside "
        f"(`mv {path} {path}.damaged`) and the next run starts an empty registry; the executed notebooks "
        f"under {path.parent} are kept either way"
    )


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    name: str
    parameters: dict[str, Any]
    started_at: datetime
    finished_at: datetime | None
    status: str
    output: Path | None
    html: Path | None
    error: str | None
    job: str | None = None


class RunRegistry:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._locks = Path(f"{database.path}-running")
        self._held: dict[int, IO[bytes]] = {}

    def start(
        self, name: str, parameters: dict[str, Any], output: Path, *, job: str | None = None, at: datetime | None = None
    ) -> int:
        # The lock is taken inside the insert's transaction: `interrupt_abandoned` looks inside one too, so it
        # never sees the new row without its lock.
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO runs (name, parameters, started_at, status, output, job) "
                "VALUES (?, ?, ?, 'running', ?, ?)",
                (name, codec.dumps(parameters), codec.format_time(at or codec.utc_now()), str(output), job),
            )
            run_id = int(cursor.lastrowid or 0)
            lock = self._lock(run_id)
            if lock is None:
                raise StoreError(f"run {run_id}'s lock {self._locks / f'{run_id}.lock'} is held by another process")
            self._held[run_id] = lock
        return run_id

    def finish(self, run_id: int, status: str, *, html: Path | None = None, error: str | None = None) -> Run:
        if status not in ENDINGS:
            raise StoreError(f"a run ends as {', '.join(ENDINGS)}, not {status!r}")
        with self._db.transaction() as conn:
            updated = conn.execute(
                "UPDATE runs SET status = ?, finished_at = ?, html = ?, error = ? WHERE id = ? AND status = 'running'",
                (status, codec.format_time(codec.utc_now()), None if html is None else str(html), error, run_id),
            ).rowcount
        if not updated:
            raise StoreError(f"run {run_id} is not running")
        self._release(run_id)
        return self.get(run_id)

    def interrupt_abandoned(self) -> list[Run]:
        """Mark `interrupted` the `running` rows whose runner is gone (their lock is free); returns them."""
        found = []
        with self._db.transaction() as conn:
            for (run_id,) in conn.execute("SELECT id FROM runs WHERE status = 'running' ORDER BY id").fetchall():
                lock = self._lock(run_id)  # flock conflicts within a process too: our own runs are skipped
                if lock is None:
                    continue  # its runner is alive
                conn.execute(
                    "UPDATE runs SET status = 'interrupted', finished_at = ?, error = ? WHERE id = ?",
                    (codec.format_time(codec.utc_now()), "its runner stopped mid-run (killed or crashed)", run_id),
                )
                self._held[run_id] = lock
                self._release(run_id)
                found.append(run_id)
        return [self.get(run_id) for run_id in found]

    def _lock(self, run_id: int) -> IO[bytes] | None:
        """Run `run_id`'s lock, taken, or None when another runner holds it."""
        self._locks.mkdir(parents=True, exist_ok=True)
        handle = (self._locks / f"{run_id}.lock").open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        return handle

    def _release(self, run_id: int) -> None:
        handle = self._held.pop(run_id, None)
        if handle is None:  # a run this registry did not start: its runner holds (or held) the lock
            return
        # Unlinked before it is unlocked, so no other process can take a lock on a file that is then removed.
        (self._locks / f"{run_id}.lock").unlink(missing_ok=True)
        handle.close()

    def get(self, run_id: int) -> Run:
        with self._db.reading() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"no run {run_id}")
        return _run(row)

    def latest(
        self,
        limit: int = 20,
        *,
        name: str | None = None,
        job: str | None = None,
        statuses: Collection[str] = STATUSES,
    ) -> list[Run]:
        """The latest runs (of a notebook, or of a scheduled job; with one of `statuses`), newest first."""
        where, params = ("AND name = ?", (name,)) if name else ("AND job = ?", (job,)) if job else ("", ())
        marks = ", ".join("?" * len(statuses))
        with self._db.reading() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM runs WHERE status IN ({marks}) {where} ORDER BY id DESC LIMIT ?",
                (*statuses, *params, limit),
            ).fetchall()
        return [_run(row) for row in rows]


_COLUMNS = "id, name, parameters, started_at, finished_at, status, output, html, error, job"


def _run(row: tuple[Any, ...]) -> Run:
    return Run(
        int(row[0]),
        row[1],
        codec.loads(row[2]),
        codec.parse_time(row[3]),
        None if row[4] is None else codec.parse_time(row[4]),
        row[5],
        None if row[6] is None else Path(row[6]),
        None if row[7] is None else Path(row[7]),
        row[8],
        row[9],
    )
