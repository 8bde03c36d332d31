"""`gpttrader schedule`: the jobs of papermill_runs/schedules.yaml, run as they fall due until stopped."""

import argparse
import signal
import sys
import threading
from pathlib import Path

from gpttrader.app.commands.notebook import project_dir
from gpttrader.config.redaction import configure_logging


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    root = project_dir()
    schedule = commands.add_parser("schedule", help="run the scheduled notebook jobs until stopped")
    schedule.add_argument("--file", type=Path, help="the schedules file (default: papermill_runs/schedules.yaml)")
    schedule.add_argument("--notebooks", type=Path, default=root / "notebooks", help="(default: notebooks/)")
    schedule.add_argument("--runs", type=Path, default=root / "papermill_runs", help="(default: papermill_runs/)")
    schedule.set_defaults(run=_schedule)


def _schedule(args: argparse.Namespace) -> int:
    from gpttrader.runs import ParameterError
    from gpttrader.runs.schedule import SCHEDULE_FILE, Scheduler, load_schedule
    from gpttrader.store import Database
    from gpttrader.store.runs import RUNS_FILE, RunRegistry

    configure_logging("INFO")
    path = args.file or args.runs / SCHEDULE_FILE
    try:
        jobs = load_schedule(path, args.notebooks)
    except (ParameterError, OSError) as exc:
        print(f"gpttrader: error: {exc}", file=sys.stderr)
        return 2
    if not jobs:
        print(f"{path}: no jobs", file=sys.stderr)
        return 0
    stop = threading.Event()
    for name in (signal.SIGINT, signal.SIGTERM):
        signal.signal(name, lambda *_: stop.set())
    database = Database(args.runs / RUNS_FILE)
    try:
        scheduler = Scheduler(jobs, notebooks=args.notebooks, runs=args.runs, registry=RunRegistry(database))
        print(f"scheduling {', '.join(f'{job.name} ({job.cron})' for job in jobs)}; Ctrl-C stops")
        scheduler.serve(stop)
    finally:
        database.close()
    return 0
