"""The run registry: every notebook run, what it was given, how it ended and where its output is.

A run is written as `running` before its kernel starts, so a runner that dies leaves a row that says so
rather than nothing.
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from gpttrader.store import codec
from gpttrader.store.database import Database
from gpttrader.store.errors import StoreError

RUNS_FILE = "runs.sqlite"
STATUSES = ("running", "succeeded", "failed")


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

    def start(
        self, name: str, parameters: dict[str, Any], output: Path, *, job: str | None = None, at: datetime | None = None
    ) -> int:
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO runs (name, parameters, started_at, status, output, job) "
                "VALUES (?, ?, ?, 'running', ?, ?)",
                (name, codec.dumps(parameters), codec.format_time(at or codec.utc_now()), str(output), job),
            )
        return int(cursor.lastrowid or 0)

    def finish(self, run_id: int, status: str, *, html: Path | None = None, error: str | None = None) -> Run:
        if status not in STATUSES[1:]:
            raise StoreError(f"a run ends as succeeded or failed, not {status!r}")
        with self._db.transaction() as conn:
            updated = conn.execute(
                "UPDATE runs SET status = ?, finished_at = ?, html = ?, error = ? WHERE id = ? AND status = 'running'",
                (status, codec.format_time(codec.utc_now()), None if html is None else str(html), error, run_id),
            ).rowcount
        if not updated:
            raise StoreError(f"run {run_id} is not running")
        return self.get(run_id)

    def get(self, run_id: int) -> Run:
        with self._db.reading() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"no run {run_id}")
        return _run(row)

    def latest(self, limit: int = 20, *, name: str | None = None, job: str | None = None) -> list[Run]:
        """The latest runs (of a notebook, or of a scheduled job), newest first."""
        where, params = ("WHERE name = ?", (name,)) if name else ("WHERE job = ?", (job,)) if job else ("", ())
        with self._db.reading() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM runs {where} ORDER BY id DESC LIMIT ?", (*params, limit)
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
