"""The embedded scheduler: the jobs of `papermill_runs/schedules.yaml` (a cron expression, a notebook, its
parameters), each run through the runner and recorded in the run registry.

- One run at a time: jobs run one after another on the scheduler's thread, so a job never overlaps itself
  (nor another: a notebook may trade, and two sessions of one profile must not share its stores).
- Missed runs (the scheduler was down when a job was due): `missed: run_once` (the default) runs the job
  once when the scheduler comes back, however many runs it missed; `missed: skip` waits for the next time.
  "Missed" is read from the registry: the job's last run started before its last due time.
- A failed run is recorded (status, the failing cell) and alerted: an ERROR in the log and a line on stderr
  of `gpttrader schedule`, which a service manager's journal keeps.
Cron expressions have five fields, or six with seconds last (`*/10 * * * * *`), in UTC.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from croniter import croniter

from gpttrader.runs.parameters import ParameterError, check_parameters
from gpttrader.runs.runner import run_notebook
from gpttrader.store.runs import Run, RunRegistry

log = logging.getLogger(__name__)
SCHEDULE_FILE = "schedules.yaml"
Missed = Literal["run_once", "skip"]


@dataclass(frozen=True)
class Job:
    name: str
    cron: str
    notebook: str
    parameters: dict[str, Any] = field(default_factory=dict)
    missed: Missed = "run_once"

    def previous(self, now: datetime) -> datetime:
        moment: datetime = croniter(self.cron, now).get_prev(datetime)
        return moment

    def next(self, now: datetime) -> datetime:
        moment: datetime = croniter(self.cron, now).get_next(datetime)
        return moment


def load_schedule(path: Path, notebooks: Path) -> list[Job]:
    """The jobs of a schedules file, each checked now (cron, notebook, parameters) rather than when due."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = raw.get("jobs") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise ParameterError(f"{path}: expected a mapping with a list under `jobs`")
    jobs: list[Job] = []
    for index, entry in enumerate(entries):
        where = f"{path.name}: jobs[{index}]"
        if not isinstance(entry, dict):
            raise ParameterError(f"{where}: must be a mapping with name, cron and notebook")
        unknown = sorted(set(entry) - {"name", "cron", "notebook", "parameters", "missed"})
        if unknown:
            raise ParameterError(
                f"{where}: unknown keys {', '.join(unknown)}; allowed: name, cron, notebook, parameters, missed"
            )
        name, cron, notebook = entry.get("name"), entry.get("cron"), entry.get("notebook")
        if not name or not cron or not notebook:
            raise ParameterError(f"{where}: name, cron and notebook are required")
        if not croniter.is_valid(str(cron)):
            raise ParameterError(
                f"{where} ({name}): cron {cron!r} is not a cron expression (5 fields, or 6 with seconds)"
            )
        missed = entry.get("missed", "run_once")
        if missed not in ("run_once", "skip"):
            raise ParameterError(f"{where} ({name}): missed must be run_once or skip, got {missed!r}")
        source = notebooks / f"{notebook}.ipynb"
        if not source.is_file():
            raise ParameterError(f"{where} ({name}): no notebook {notebook!r} in {notebooks}")
        parameters = dict(entry.get("parameters") or {})
        check_parameters(source, parameters)
        jobs.append(Job(str(name), str(cron), str(notebook), parameters, missed))
    names = [job.name for job in jobs]
    if len(set(names)) != len(names):
        raise ParameterError(f"{path.name}: job names repeat")
    return jobs


class Scheduler:
    def __init__(
        self,
        jobs: list[Job],
        *,
        notebooks: Path,
        runs: Path,
        registry: RunRegistry,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.jobs, self.notebooks, self.runs, self.registry, self.clock = jobs, notebooks, runs, registry, clock
        self._skipped_before: dict[str, datetime] = {}
        started = clock()
        for job in jobs:  # `skip`: what fell due while the scheduler was down is not run
            if job.missed == "skip":
                self._skipped_before[job.name] = started

    def due(self, now: datetime) -> list[Job]:
        """The jobs whose last due time has no run yet."""
        found = []
        for job in self.jobs:
            due_at = job.previous(now)
            if due_at < self._skipped_before.get(job.name, due_at):
                continue
            last = self.registry.latest(1, job=job.name)
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
            )
            if run.status != "succeeded":
                log.error("scheduled job %s failed (run %d): %s", job.name, run.id, run.error)
            done.append(run)
        return done

    def serve(self, stop: threading.Event) -> None:
        """Run jobs as they fall due until `stop` is set."""
        while not stop.is_set():
            self.run_pending()
            now = self.clock()
            wake = min(job.next(now) for job in self.jobs)
            stop.wait(max((wake - self.clock()).total_seconds(), 0.05))
