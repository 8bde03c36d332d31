"""`gpttrader schedule`: the jobs of papermill_runs/schedules.yaml, run as they fall due until stopped; a failed
run is alerted to the webhook of GPTTRADER_ALERT_WEBHOOK_URL (as JSON) when it is set."""

import argparse
import os
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
    from gpttrader.config.secrets import load_alert_webhook
    from gpttrader.monitoring.delivery import WebhookDelivery
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
        off = [job.name for job in jobs if not job.enabled]
        if off:
            print(f"off (enabled: false): {', '.join(off)}")
        if len(off) == len(jobs):
            print(f"{path}: no jobs on", file=sys.stderr)
            return 0
        url = load_alert_webhook(os.environ)
        delivery = None if url is None else WebhookDelivery(url, profile="schedule")
        with open_registry(args.runs / RUNS_FILE) as registry:
            scheduler = Scheduler(
                jobs,
                notebooks=args.notebooks,
                runs=args.runs,
                registry=registry,
                alert=(lambda alert: None) if delivery is None else delivery.submit,
            )
            on = ", ".join(f"{job.name} ({job.cron})" for job in scheduler.jobs)
            print(f"scheduling {on}; alerts: {'the log and the webhook' if delivery else 'the log'}; Ctrl-C stops")
            try:
                scheduler.serve(stop)
            finally:
                if delivery is not None:
                    delivery.close()
    except (ConfigError, StoreError) as exc:
        return refused(exc)
    return 0
