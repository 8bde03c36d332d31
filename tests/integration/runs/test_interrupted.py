"""A scheduler killed mid-run (SIGKILL: no handler, no cleanup) leaves a `running` row; the scheduler that
starts next marks it `interrupted`, alerts, and applies the job's missed-run policy to it."""

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gpttrader.runs import run_notebook
from gpttrader.runs.schedule import Job, Scheduler
from gpttrader.store import Database
from gpttrader.store.runs import RUNS_FILE, RunRegistry
from tests.integration.runs.conftest import gone
from tests.waiting import wait_for


def a_run_killed_mid_run(notebooks: Path, runs: Path) -> int:
    """Start `gpttrader schedule` on a job that hangs, SIGKILL it once its kernel runs; the run's id."""
    pid_file = runs / "kernel.pid"
    schedules = runs / "schedules.yaml"
    schedules.write_text(
        f"jobs:\n  - {{name: nightly, cron: '* * * * * *', notebook: hang, parameters: {{pid_file: '{pid_file}'}}}}\n"
    )
    command = ["schedule", "--file", schedules, "--notebooks", notebooks, "--runs", runs]
    scheduler = subprocess.Popen([sys.executable, "-m", "gpttrader.app.cli", *map(str, command)])
    try:
        wait_for(pid_file.exists, timeout=60, what="the scheduled run's kernel to start")
    finally:
        scheduler.send_signal(signal.SIGKILL)
        scheduler.wait(30)
    kernel = int(pid_file.read_text())
    try:  # orphaned, the kernel sees its parent gone and exits (ipykernel's parent poller)
        wait_for(lambda: gone(kernel), timeout=30, what="the killed scheduler's kernel to exit")
    finally:
        if not gone(kernel):
            os.kill(kernel, signal.SIGKILL)
    [row] = RunRegistry(Database(runs / RUNS_FILE)).latest()
    assert (row.job, row.status) == ("nightly", "running")
    return row.id


@pytest.mark.slow
def test_a_run_left_running_by_a_killed_scheduler_is_interrupted_and_run_once_again(
    notebooks: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    killed = a_run_killed_mid_run(notebooks, tmp_path)
    registry = RunRegistry(Database(tmp_path / RUNS_FILE))
    nightly = Job("nightly", "0 0 * * *", "echo")  # its due time (midnight) is before the interrupted run
    with caplog.at_level(logging.ERROR, logger="gpttrader.runs.schedule"):
        scheduler = Scheduler([nightly], notebooks=notebooks, runs=tmp_path, registry=registry)
    interrupted = registry.get(killed)
    assert interrupted.status == "interrupted"
    assert interrupted.finished_at is not None
    assert interrupted.error == "its runner stopped mid-run (killed or crashed)"
    assert any(
        f"run {killed} (nightly) was interrupted" in r.getMessage()
        and "missed: run_once, so it runs again now" in r.getMessage()
        for r in caplog.records
    )
    [again] = scheduler.run_pending()
    assert (again.job, again.status) == ("nightly", "succeeded")
    assert scheduler.run_pending() == []  # once
    assert not any(Path(f"{tmp_path / RUNS_FILE}-running").iterdir())  # no lock left behind


@pytest.mark.slow
def test_missed_skip_does_not_run_an_interrupted_job_again(notebooks: Path, tmp_path: Path) -> None:
    killed = a_run_killed_mid_run(notebooks, tmp_path)
    registry = RunRegistry(Database(tmp_path / RUNS_FILE))
    scheduler = Scheduler(
        [Job("nightly", "0 0 * * *", "echo", missed="skip")], notebooks=notebooks, runs=tmp_path, registry=registry
    )
    assert registry.get(killed).status == "interrupted"
    assert scheduler.run_pending() == []


@pytest.mark.slow
def test_the_runner_marks_a_dead_runners_row_interrupted_when_it_starts(notebooks: Path, tmp_path: Path) -> None:
    killed = a_run_killed_mid_run(notebooks, tmp_path)
    registry = RunRegistry(Database(tmp_path / RUNS_FILE))
    run = run_notebook("echo", {}, notebooks=notebooks, runs=tmp_path, registry=registry)
    assert run.status == "succeeded", run.error
    assert registry.get(killed).status == "interrupted"
