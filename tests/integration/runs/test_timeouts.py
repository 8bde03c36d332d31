"""A scheduled run that hangs: stopped at its job's timeout, its kernel gone, recorded `timed_out` and
alerted, and the next job runs."""

import logging
import os
from pathlib import Path

import pytest

from gpttrader.runs.schedule import DEFAULT_TIMEOUT, Scheduler, load_schedule
from gpttrader.store import Database
from gpttrader.store.runs import RUNS_FILE, RunRegistry
from tests.integration.runs.conftest import gone
from tests.waiting import wait_for


@pytest.mark.slow
def test_a_hung_job_is_stopped_at_its_timeout_and_the_next_job_runs(
    notebooks: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pid_file = tmp_path / "kernel.pid"
    schedule = tmp_path / "schedules.yaml"
    schedule.write_text(
        "jobs:\n"
        f"  - {{name: hung, cron: '0 * * * *', notebook: hang, timeout_minutes: 0.05, "
        f"parameters: {{pid_file: '{pid_file}'}}}}\n"
        "  - {name: after, cron: '0 * * * *', notebook: echo}\n"
    )
    jobs = load_schedule(schedule, notebooks)
    assert [job.timeout.total_seconds() for job in jobs] == [3, DEFAULT_TIMEOUT.total_seconds()]
    registry = RunRegistry(Database(tmp_path / RUNS_FILE))
    with caplog.at_level(logging.ERROR, logger="gpttrader.runs.schedule"):
        hung, after = Scheduler(jobs, notebooks=notebooks, runs=tmp_path, registry=registry).run_pending()
    assert hung.status == "timed_out"
    assert hung.error == "timed out after 0.05 min in cell 3 ('import time'); its kernel was stopped"
    assert hung.finished_at is not None
    assert 3 <= (hung.finished_at - hung.started_at).total_seconds() < 60
    assert after.status == "succeeded", after.error
    assert [r.status for r in registry.latest()] == ["succeeded", "timed_out"]
    assert any("scheduled job hung timed out" in r.getMessage() for r in caplog.records)
    kernel = int(pid_file.read_text())
    assert kernel != os.getpid()
    wait_for(lambda: gone(kernel), timeout=30, what="the hung run's kernel to be gone")
    assert hung.output is not None
    assert "after the hang" not in hung.output.read_text()  # the kernel did not go on after the hung cell
