"""The store under real processes: a writer and a reader at once, and a writer killed mid-write."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gpttrader.domain.events import EventType
from gpttrader.store import Database, Event, EventStore

WRITER = """
import sys
from pathlib import Path
from gpttrader.domain.events import EventType
from gpttrader.store import Database, EventStore
store = EventStore(Database(Path(sys.argv[1])))
print("ready", flush=True)
for i in range(int(sys.argv[2])):
    store.append(EventType.FEED_RESYNC, {"message": f"{i} {'x' * 200}"})
    if sys.argv[3] == "report":
        print(i, flush=True)
"""

pytestmark = pytest.mark.slow


def number(event: Event) -> int:
    """Which of the writer's events this is."""
    return int(event.payload["message"].split()[0])


def start_writer(path: Path, count: int, report: bool) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(count), "report" if report else "quiet"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_reader_sees_a_growing_consistent_prefix_while_another_process_writes(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    Database(path).close()
    writer = start_writer(path, 4000, report=False)  # ~0.6 s of writing: long enough to be seen happening
    reader_db = Database(path)
    store = EventStore(reader_db)
    seen: list[int] = []
    deadline = time.monotonic() + 60
    while writer.poll() is None and time.monotonic() < deadline:
        values = [number(e) for e in store.read()]
        assert values == list(range(len(values))), "a reader saw a gap or a reordering"
        seen.append(len(values))
    assert writer.wait(timeout=60) == 0
    assert [number(e) for e in store.read()] == list(range(4000))
    assert len(set(seen)) > 1, "the reader never observed the writer's progress"
    reader_db.close()


@pytest.mark.parametrize("kill_after", [5, 50, 150])
def test_sigkill_mid_write_loses_at_most_the_uncommitted_event(tmp_path: Path, kill_after: int) -> None:
    path = tmp_path / "state.sqlite"
    writer = start_writer(path, 100_000, report=True)
    assert writer.stdout is not None
    acknowledged = -1
    while acknowledged < kill_after:
        acknowledged = int(writer.stdout.readline())
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    db = Database(path)
    values = [number(e) for e in EventStore(db).read()]
    # Every event the writer reported as written survived, with no gap and nothing invented.
    assert values == list(range(len(values)))
    assert len(values) >= acknowledged + 1
    EventStore(db).append(EventType.FEED_RESYNC, {"message": "after-restart"})
    assert EventStore(db).tail(1)[0].payload["message"] == "after-restart"
    db.close()
