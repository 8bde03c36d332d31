"""The embedded scheduler: the jobs of `papermill_runs/schedules.yaml` (a cron expression, a notebook, its
parameters), each run through the runner and recorded in the run registry.

- One run at a time: jobs run one after another on the scheduler's thread, so a job never overlaps itself
  (nor another: a notebook may trade, and two sessions of one profile must not share its stores).
- Missed runs (the scheduler was down when a job was due): `missed: run_once` (the default) runs the job
  once when the scheduler comes back, however many runs it missed; `missed: skip` waits for the next time.
  "Missed" is read from the registry: the job's last run started before its last due time.
- A failed run is recorded (status, the failing cell) and alerted: an ERROR in the log (a line on stderr of
  `gpttrader schedule`, which a service manager's journal keeps) and an alert (`scheduled_run_failed`) to the
  scheduler's alert channel, the webhook of GPTTRADER_ALERT_WEBHOOK_URL when it is set: nobody reads a log
  at 00:30.
- A job with `enabled: false` is checked like any other (cron, notebook, parameters) but never runs: the
  shipped live canary is off until its credentials and the live opt-in exist, and turning it on is one edit.
- A run that takes longer than its job's timeout (`timeout_minutes`, default DEFAULT_TIMEOUT) is stopped,
  its kernel shut down, recorded `timed_out` and alerted like a failure; the next jobs then run. Without
  it one hung cell would hold up every later job, since jobs run one after another.
- A run left `running` by a scheduler that was killed mid-run is marked `interrupted` when the scheduler
  starts again, alerted, and counts as a missed run: `run_once` runs the job again, `skip` does not.
Cron expressions have five fields, or six with seconds last (`*/10 * * * * *`), in UTC.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from croniter import CroniterBadDateError, croniter

from gpttrader.config.yaml_files import read_yaml
from gpttrader.monitoring.alerts import Alert
from gpttrader.runs.parameters import ParameterError, check_parameters
from gpttrader.runs.runner import run_notebook
from gpttrader.store.runs import STATUSES, Run, RunRegistry

log = logging.getLogger(__name__)
SCHEDULE_FILE = "schedules.yaml"
Missed = Literal["run_once", "skip"]
# Well above what the shipped notebooks take (a research run with its sweep takes minutes), and below the
# shortest shipped period (hourly), so that a hung run costs an hourly job at most one of its runs.
DEFAULT_TIMEOUT = timedelta(minutes=30)
_A_WEEK = 7 * 24 * 60  # minutes; more is a typo, not a notebook run
_KEYS = ("name", "cron", "notebook", "parameters", "missed", "timeout_minutes", "enabled")
_ATTEMPTS = tuple(status for status in STATUSES if status != "interrupted")  # what counts as the job having run


@dataclass(frozen=True)
class Job:
    name: str
    cron: str
    notebook: str
    parameters: dict[str, Any] = field(default_factory=dict)
    missed: Missed = "run_once"
    timeout: timedelta = DEFAULT_TIMEOUT
    enabled: bool = True

    def previous(self, now: datetime) -> datetime:
        moment: datetime = croniter(self.cron, now).get_prev(datetime)
        return moment

    def next(self, now: datetime) -> datetime:
        moment: datetime = croniter(self.cron, now).get_next(datetime)
        return moment


def load_schedule(path: Path, notebooks: Path) -> list[Job]:
    """The jobs of a schedules file, each checked now (cron, notebook, parameters) rather than when due."""
    raw = read_yaml(path) or {}
    entries = raw.get("jobs") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise ParameterError(f"{path}: expected a mapping with a list under `jobs`")
    jobs = [_job(f"{path.name}: jobs[{index}]", entry, notebooks) for index, entry in enumerate(entries)]
    names = [job.name for job in jobs]
    if len(set(names)) != len(names):
        raise ParameterError(f"{path.name}: job names repeat")
    return jobs


def _job(where: str, entry: Any, notebooks: Path) -> Job:
    if not isinstance(entry, dict):
        raise ParameterError(f"{where}: must be a mapping with name, cron and notebook")
    unknown = sorted(str(key) for key in set(entry) - set(_KEYS))
    if unknown:
        raise ParameterError(f"{where}: unknown keys {', '.join(unknown)}; allowed: {', '.join(_KEYS)}")
    name, cron, notebook = entry.get("name"), entry.get("cron"), entry.get("notebook")
    if not name or not cron or not notebook:
        raise ParameterError(f"{where}: name, cron and notebook are required")
    where = f"{where} ({name})"
    if not croniter.is_valid(str(cron)):
        raise ParameterError(f"{where}: cron {cron!r} is not a cron expression (5 fields, or 6 with seconds)")
    try:  # a valid expression may match no date at all (`0 0 31 2 *`); croniter says so only when asked
        croniter(str(cron), datetime.now(UTC)).get_next(datetime)
        croniter(str(cron), datetime.now(UTC)).get_prev(datetime)
    except CroniterBadDateError:
        raise ParameterError(f"{where}: cron {cron!r} never fires (no date matches it)") from None
    missed = entry.get("missed", "run_once")
    if missed not in ("run_once", "skip"):
        raise ParameterError(f"{where}: missed must be run_once or skip, got {missed!r}")
    minutes = entry.get("timeout_minutes", DEFAULT_TIMEOUT.total_seconds() / 60)
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not 0 < minutes <= _A_WEEK:
        raise ParameterError(
            f"{where}: timeout_minutes must be above 0 and at most {_A_WEEK} (a week), got {minutes!r}"
        )
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ParameterError(f"{where}: enabled must be true or false, got {enabled!r}")
    parameters = entry.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise ParameterError(f"{where}: parameters must be a mapping of names to values, got {parameters!r}")
    source = notebooks / f"{notebook}.ipynb"
    if not source.is_file():
        raise ParameterError(f"{where}: no notebook {notebook!r} in {notebooks}")
    checked = check_parameters(source, parameters)
    return Job(str(name), str(cron), str(notebook), checked, missed, timedelta(minutes=minutes), enabled)


class Scheduler:
    def __init__(
        self,
        jobs: list[Job],
        *,
        notebooks: Path,
        runs: Path,
        registry: RunRegistry,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        alert: Callable[[Alert], object] = lambda alert: None,
    ) -> None:
        self.jobs = [job for job in jobs if job.enabled]
        self.notebooks, self.runs, self.registry, self.clock, self.alert = notebooks, runs, registry, clock, alert
        self._skipped_before: dict[str, datetime] = {}
        started = clock()
        for job in jobs:  # `skip`: what fell due while the scheduler was down is not run
            if job.missed == "skip":
                self._skipped_before[job.name] = started
        then = {"run_once": "; missed: run_once, so it runs again now", "skip": "; missed: skip, so it waits"}
        after = {job.name: then[job.missed] for job in jobs}
        for run in registry.interrupt_abandoned():
            name = run.job or run.name
            message = f"run {run.id} ({name}) was interrupted: {run.error}{after.get(run.job or '', '')}"
            log.error("%s", message)
            self._alert(message, run)

    def due(self, now: datetime) -> list[Job]:
        """The jobs whose last due time has no run yet."""
        found = []
        for job in self.jobs:
            due_at = job.previous(now)
            if due_at < self._skipped_before.get(job.name, due_at):
                continue
            last = self.registry.latest(1, job=job.name, statuses=_ATTEMPTS)
            if not last or last[0].started_at < due_at:
                found.append(job)
        return found

    def run_pending(self) -> list[Run]:
        done = []
        for job in self.due(self.clock()):
            run = run_notebook(
                job.notebook,
                job.parameters,
                notebooks=self.notebooks,
                runs=self.runs,
                registry=self.registry,
                job=job.name,
                timeout=job.timeout,
            )
            if run.status != "succeeded":
                message = f"scheduled job {job.name} {run.status.replace('_', ' ')} (run {run.id}): {run.error}"
                log.error("%s", message)
                self._alert(message, run)
            done.append(run)
        return done

    def _alert(self, message: str, run: Run) -> None:
        where = f"the executed notebook is {run.output}; " if run.output else ""
        hint = f"{where}`gpttrader notebook runs` lists the runs, with the failing cell"
        self.alert(Alert("scheduled_run_failed", "system", "critical", message, hint, self.clock()))

    def serve(self, stop: threading.Event) -> None:
        """Run jobs as they fall due until `stop` is set."""
        while not stop.is_set() and self.jobs:
            self.run_pending()
            now = self.clock()
            wake = min(job.next(now) for job in self.jobs)
            stop.wait(max((wake - self.clock()).total_seconds(), 0.05))
