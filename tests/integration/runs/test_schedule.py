"""The scheduler: its file checked up front, due jobs from the registry, the missed-run policy, and jobs
firing on a fast real schedule (with a failing one recorded and alerted)."""

import logging
import shutil
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gpttrader.config import ConfigError
from gpttrader.runs import ParameterError
from gpttrader.runs.schedule import Job, Scheduler, load_schedule
from gpttrader.store import Database
from gpttrader.store.runs import RUNS_FILE, RunRegistry

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "notebooks"
T0 = datetime(2026, 11, 24, 10, 0, 30, tzinfo=UTC)


@pytest.fixture
def notebooks(tmp_path: Path) -> Path:
    folder = tmp_path / "notebooks"
    shutil.copytree(FIXTURES, folder)
    return folder


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schedules.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("jobs: [{name: a, cron: 'every day', notebook: echo}]", "cron 'every day' is not a cron expression"),
        ("jobs: [{name: a, cron: '* * * * *', notebook: nope}]", "no notebook 'nope'"),
        ("jobs: [{name: a, cron: '* * * * *', notebook: echo, when: now}]", "unknown keys when"),
        ("jobs: [{name: a, cron: '* * * * *', notebook: echo, parameters: {fast: x}}]", "fast = 'x': must be int"),
        ("jobs: [{name: a, cron: '* * * * *', notebook: echo, missed: later}]", "missed must be run_once or skip"),
        (
            "jobs: [{name: a, cron: '* * * * *', notebook: echo}, {name: a, cron: '0 * * * *', notebook: echo}]",
            "job names repeat",
        ),
        ("jobs: {a: 1}", "a list under `jobs`"),
    ],
)
def test_a_bad_schedule_is_refused_when_loaded(tmp_path: Path, notebooks: Path, text: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        load_schedule(write(tmp_path, text), notebooks)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("jobs:\n  - {name: a, cron: '* * * * *'\n", r"schedules.yaml, line 3, column 1: "),
        (b"# caf\xe9\njobs: []\n", r"schedules.yaml: not UTF-8 text \(byte 5"),
        (
            "jobs: [{name: a, cron: '* * * * *', notebook: echo, parameters: [1, 2]}]",
            r"jobs\[0\] \(a\): parameters must be a mapping of names to values, got \[1, 2\]",
        ),
        (
            "jobs: [{name: a, cron: '* * * * *', notebook: echo, parameters: abc}]",
            r"jobs\[0\] \(a\): parameters must be a mapping of names to values, got 'abc'",
        ),
        ("jobs: [{name: a, cron: '0 0 31 2 *', notebook: echo}]", r"cron '0 0 31 2 \*' never fires"),
        (
            "jobs: [{name: a, cron: '* * * * *', notebook: echo, timeout_minutes: 0}]",
            "timeout_minutes must be above 0 and at most 10080 \\(a week\\), got 0",
        ),
        ("jobs: [{name: a, cron: '* * * * *', notebook: echo, timeout_minutes: ten}]", "got 'ten'"),
        ("jobs: [{name: a, cron: '* * * * *', notebook: echo, timeout_minutes: true}]", "got True"),
        ("jobs: [{name: a, cron: '* * * * *', notebook: echo, timeout_minutes: 99999999.0}]", "got 99999999.0"),
    ],
)
def test_a_bad_schedules_file_is_a_config_error_naming_the_place(
    tmp_path: Path, notebooks: Path, text: str | bytes, message: str
) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ConfigError, match=message):
        load_schedule(path, notebooks)


def test_due_jobs_and_the_missed_run_policy(tmp_path: Path, notebooks: Path) -> None:
    registry = RunRegistry(Database(tmp_path / RUNS_FILE))
    registry.start("echo", {}, tmp_path / "x.ipynb", job="hourly", at=T0 - timedelta(hours=2))
    registry.start("echo", {}, tmp_path / "y.ipynb", job="skipper", at=T0 - timedelta(hours=2))
    hourly = Job("hourly", "0 * * * *", "echo")  # missed the 09:00 and 10:00 runs: runs once on start
    skipper = Job("skipper", "0 * * * *", "echo", missed="skip")  # waits for 11:00
    minutely = Job("minutely", "* * * * *", "echo")  # never ran
    now = [T0]
    scheduler = Scheduler(
        [hourly, skipper, minutely], notebooks=notebooks, runs=tmp_path, registry=registry, clock=lambda: now[0]
    )
    assert [j.name for j in scheduler.due(T0)] == ["hourly", "minutely"]
    registry.start("echo", {}, tmp_path / "z.ipynb", job="minutely", at=T0)
    registry.start("echo", {}, tmp_path / "w.ipynb", job="hourly", at=T0)
    assert scheduler.due(T0 + timedelta(seconds=20)) == []
    assert [j.name for j in scheduler.due(T0 + timedelta(seconds=31))] == ["minutely"]  # 10:01 came
    assert [j.name for j in scheduler.due(T0 + timedelta(hours=1))] == ["hourly", "skipper", "minutely"]


@pytest.mark.slow
def test_jobs_fire_on_a_fast_schedule(tmp_path: Path, notebooks: Path, caplog: pytest.LogCaptureFixture) -> None:
    schedule = write(
        tmp_path,
        "jobs:\n"
        "  - {name: fast-echo, cron: '* * * * * */2', notebook: echo, parameters: {fast: 3}}\n"
        "  - {name: broken, cron: '* * * * * */3', notebook: echo, parameters: {fail: true}}\n",
    )
    registry = RunRegistry(Database(tmp_path / RUNS_FILE))
    scheduler = Scheduler(load_schedule(schedule, notebooks), notebooks=notebooks, runs=tmp_path, registry=registry)
    stop = threading.Event()
    with caplog.at_level(logging.ERROR, logger="gpttrader.runs.schedule"):
        worker = threading.Thread(target=scheduler.serve, args=(stop,))
        worker.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (registry.latest(job="fast-echo") and registry.latest(job="broken")):
            time.sleep(0.2)
        stop.set()
        worker.join(60)
    fast = registry.latest(job="fast-echo")
    assert fast
    assert fast[-1].status == "succeeded"
    assert fast[-1].parameters == {"fast": 3}
    broken = registry.latest(job="broken")
    assert broken
    assert broken[-1].status == "failed"
    assert "asked to fail" in (broken[-1].error or "")
    assert any("scheduled job broken failed" in r.getMessage() for r in caplog.records)


def test_the_shipped_schedule_loads() -> None:
    root = Path(__file__).resolve().parents[3]
    jobs = load_schedule(root / "papermill_runs" / "schedules.yaml", root / "notebooks")
    assert {job.notebook for job in jobs} <= {"research", "performance_report", "paper_trading", "live_canary"}
