"""The run registry's locks: a `running` row is interrupted only when its runner is gone, which its free lock
shows, whatever process asks and however old the run is; and the registry file refused when damaged."""

import sqlite3
from pathlib import Path

import pytest

from gpttrader.store import Database
from gpttrader.store.errors import StoreError
from gpttrader.store.runs import RUNS_FILE, RunRegistry, open_registry


def test_a_running_row_is_interrupted_only_once_its_lock_is_free(tmp_path: Path) -> None:
    runner = RunRegistry(Database(tmp_path / RUNS_FILE))
    alive = runner.start("echo", {}, tmp_path / "a.ipynb")
    other = RunRegistry(Database(tmp_path / RUNS_FILE))  # another process's registry, as far as locks go
    assert other.interrupt_abandoned() == []
    assert runner.interrupt_abandoned() == []  # its own runs too
    conn = sqlite3.connect(tmp_path / RUNS_FILE)  # a row whose runner is gone: no one holds its lock
    with conn:
        conn.execute(
            "INSERT INTO runs (name, parameters, started_at, status) "
            "VALUES ('echo', '{}', '2026-11-24T10:00:00Z', 'running')"
        )
    conn.close()
    [lost] = other.interrupt_abandoned()
    assert (lost.id, lost.status) == (alive + 1, "interrupted")
    assert other.get(alive).status == "running"
    finished = runner.finish(alive, "timed_out", error="timed out")
    assert finished.status == "timed_out"
    assert other.interrupt_abandoned() == []
    assert list(Path(f"{tmp_path / RUNS_FILE}-running").iterdir()) == []
    with pytest.raises(StoreError, match="a run ends as succeeded, failed, timed_out, not 'interrupted'"):
        runner.finish(runner.start("echo", {}, tmp_path / "b.ipynb"), "interrupted")


def test_an_empty_registry_file_is_refused_not_recreated(tmp_path: Path) -> None:
    path = tmp_path / RUNS_FILE
    path.write_bytes(b"")
    with (
        pytest.raises(StoreError, match=r"is not a usable run registry \(it is empty \(truncated\)\)"),
        open_registry(path),
    ):
        pass
    assert path.stat().st_size == 0
