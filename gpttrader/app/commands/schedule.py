"""`gpttrader schedule`: the jobs of papermill_runs/schedules.yaml, run as they fall due until stopped."""

import argparse
import signal
import sys
import threading
from pathlib import Path

from gpttrader.app.commands.notebook import project_dir, refused
from gpttrader.config.errors import ConfigError
from gpttrader.config.redaction import configure_logging
from gpttrader.store.errors import StoreError


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    root = project_dir()
    schedule = commands.add_parser("schedule", help="run the scheduled notebook jobs until stopped")
    schedule.add_argument("--file", type=Path, help="the schedules file (default: papermill_runs/schedules.yaml)")
    schedule.add_argument("--notebooks", type=Path, default=root / "notebooks", help="(default: notebooks/)")
    schedule.add_argument("--runs", type=Path, default=root / "papermill_runs", help="(default: papermill_runs/)")
    schedule.set_defaults(run=_schedule)


def _schedule(args: argparse.Namespace) -> int:
    from gpttrader.runs.leaks import register_environment_secrets
    from gpttrader.runs.schedule import SCHEDULE_FILE, Scheduler, load_schedule
    from gpttrader.store.runs import RUNS_FILE, open_registry

    configure_logging("INFO")
    path = args.file or args.runs / SCHEDULE_FILE
    stop = threading.Event()
    for name in (signal.SIGINT, signal.SIGTERM):
        signal.signal(name, lambda *_: stop.set())
    try:
        register_environment_secrets()
        jobs = load_schedule(path, args.notebooks)
        if not jobs:
            print(f"{path}: no jobs", file=sys.stderr)
            return 0
        with open_registry(args.runs / RUNS_FILE) as registry:
            scheduler = Scheduler(jobs, notebooks=args.notebooks, runs=args.runs, registry=registry)
            print(f"scheduling {', '.join(f'{job.name} ({job.cron})' for job in jobs)}; Ctrl-C stops")
            scheduler.serve(stop)
    except (ConfigError, StoreError) as exc:
        return refused(exc)
    return 0
