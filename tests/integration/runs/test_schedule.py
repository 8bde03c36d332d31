"""The scheduler: its file checked up front, due jobs from the registry, the missed-run policy, and jobs
firing on a fast real schedule (with a failing one recorded and alerted)."""

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gpttrader.config import ConfigError
from gpttrader.config.secrets import Secret
from gpttrader.monitoring import WebhookDelivery
from gpttrader.runs import ParameterError
from gpttrader.runs.schedule import Job, Scheduler, load_schedule
from gpttrader.store import Database
from gpttrader.store.runs import RUNS_FILE, RunRegistry
from tests.webhook_receiver import receiver

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


def test_the_shipped_schedule_has_a_daily_canary_that_is_off() -> None:
    root = Path(__file__).resolve().parents[3]
    jobs = {job.name: job for job in load_schedule(root / "papermill_runs" / "schedules.yaml", root / "notebooks")}
    canary = next(job for job in jobs.values() if job.notebook == "live_canary")
    assert {job.notebook for job in jobs.values()} >= {"research", "performance_report", "live_canary"}
    assert not canary.enabled
    day = datetime(2026, 11, 24, tzinfo=UTC)
    assert canary.next(day) - canary.previous(day) == timedelta(days=1)
    assert all(job.enabled for job in jobs.values() if job is not canary)


def test_a_job_that_is_off_is_checked_but_never_due(tmp_path: Path, notebooks: Path) -> None:
    with pytest.raises(ParameterError, match=r"enabled must be true or false, got 'no'"):
        load_schedule(write(tmp_path, "jobs: [{name: a, cron: '* * * * *', notebook: echo, enabled: 'no'}]"), notebooks)
    with pytest.raises(ParameterError, match="fast = 'x': must be int"):  # checked now, ready to be turned on
        load_schedule(
            write(
                tmp_path, "jobs: [{name: a, cron: '* * * * *', notebook: echo, enabled: false, parameters: {fast: x}}]"
            ),
            notebooks,
        )
    jobs = load_schedule(
        write(
            tmp_path,
            "jobs: [{name: canary, cron: '* * * * *', notebook: echo, enabled: false},"
            " {name: report, cron: '* * * * *', notebook: echo}]",
        ),
        notebooks,
    )
    registry = RunRegistry(Database(tmp_path / RUNS_FILE))
    scheduler = Scheduler(jobs, notebooks=notebooks, runs=tmp_path, registry=registry, clock=lambda: T0)
    assert [job.name for job in scheduler.due(T0 + timedelta(hours=1))] == ["report"]


@pytest.mark.slow
def test_a_failed_scheduled_run_is_alerted_through_the_webhook(tmp_path: Path, notebooks: Path) -> None:
    schedule = write(
        tmp_path, "jobs: [{name: broken, cron: '* * * * * */2', notebook: echo, parameters: {fail: true}}]"
    )
    registry = RunRegistry(Database(tmp_path / RUNS_FILE))
    with receiver() as hook:
        delivery = WebhookDelivery(Secret(hook.url), profile="schedule")
        scheduler = Scheduler(
            load_schedule(schedule, notebooks),
            notebooks=notebooks,
            runs=tmp_path,
            registry=registry,
            alert=delivery.submit,
        )
        stop = threading.Event()
        worker = threading.Thread(target=scheduler.serve, args=(stop,))
        worker.start()
        try:
            posted = hook.wait_for(1, timeout=60)
        finally:
            stop.set()
            worker.join(60)
            delivery.close()
    assert posted
    alert = posted[0]
    assert (alert["rule"], alert["severity"], alert["profile"]) == ("scheduled_run_failed", "critical", "schedule")
    assert "scheduled job broken failed" in alert["message"]
    assert "asked to fail" in alert["message"]
    assert "gpttrader notebook runs" in alert["hint"]


@pytest.mark.slow
def test_gpttrader_schedule_posts_a_failed_run_to_the_configured_webhook(
    tmp_path: Path, notebooks: Path, clean_env: dict[str, str]
) -> None:
    schedule = write(
        tmp_path, "jobs: [{name: broken, cron: '* * * * * */2', notebook: echo, parameters: {fail: true}}]"
    )
    with receiver() as hook:
        command = [sys.executable, "-m", "gpttrader.app.cli", "schedule", "--file", str(schedule)]
        command += ["--notebooks", str(notebooks), "--runs", str(tmp_path)]
        env = {**os.environ, "GPTTRADER_ALERT_WEBHOOK_URL": hook.url}
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            posted = hook.wait_for(1, timeout=90)
        finally:
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=60)
    assert posted, err
    assert posted[0]["rule"] == "scheduled_run_failed"
    assert hook.url not in out + err
