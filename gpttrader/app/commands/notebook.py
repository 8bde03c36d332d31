"""`gpttrader notebook run|runs`: a notebook run headless through the runner, and the run registry."""

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from gpttrader.app.arguments import positive_int

Parameter = tuple[str, Any]


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    notebook = commands.add_parser("notebook", help="run notebooks headless and list their runs")
    notebook_commands = notebook.add_subparsers(title="notebook commands", metavar="COMMAND")
    run = notebook_commands.add_parser("run", help="run a notebook of notebooks/ with parameters")
    run.add_argument("name", help="the notebook's name, without .ipynb")
    run.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a parameter; the value is read as YAML (10, 0.5, true, [5, 10], BTC-USD)",
    )
    run.add_argument("-f", "--parameters-file", type=Path, help="a YAML mapping of parameters")
    run.add_argument("--kernel", help="the Jupyter kernel (default: gpttrader if registered, else python3)")
    _folders(run)
    run.set_defaults(run=_run)
    runs = notebook_commands.add_parser("runs", help="the latest runs, newest first")
    runs.add_argument("-n", "--lines", type=positive_int, default=20)
    runs.add_argument("--name", help="only runs of this notebook")
    _folders(runs)
    runs.set_defaults(run=_runs)


def _folders(parser: argparse.ArgumentParser) -> None:
    root = project_dir()
    parser.add_argument("--notebooks", type=Path, default=root / "notebooks", help="(default: notebooks/)")
    parser.add_argument("--runs", type=Path, default=root / "papermill_runs", help="(default: papermill_runs/)")


def project_dir() -> Path:
    """The checkout we run in (notebooks/ beside pyproject.toml), or the current folder."""
    cwd = Path.cwd()
    return next(
        (f for f in (cwd, *cwd.parents) if (f / "pyproject.toml").is_file() and (f / "notebooks").is_dir()), cwd
    )


def _parameters(args: argparse.Namespace) -> dict[str, Any]:
    given: dict[str, Any] = {}
    if args.parameters_file is not None:
        loaded = yaml.safe_load(args.parameters_file.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{args.parameters_file}: must hold a mapping of parameter names to values")
        given.update(loaded)
    for name, text in args.parameter:
        given[name] = yaml.safe_load(text)
    return given


def _run(args: argparse.Namespace) -> int:
    from gpttrader.runs import ParameterError, run_notebook
    from gpttrader.store import Database
    from gpttrader.store.runs import RUNS_FILE, RunRegistry

    try:
        parameters = _parameters(args)
        database = Database(args.runs / RUNS_FILE)
        try:
            run = run_notebook(
                args.name,
                parameters,
                notebooks=args.notebooks,
                runs=args.runs,
                registry=RunRegistry(database),
                kernel=args.kernel,
            )
        finally:
            database.close()
    except (ParameterError, ValueError, yaml.YAMLError) as exc:
        print(f"gpttrader: error: {exc}", file=sys.stderr)
        return 2
    print(f"run {run.id} of {run.name}: {run.status}")
    print(f"notebook: {run.output}")
    if run.html is not None:
        print(f"html: {run.html}")
    if run.error:
        print(f"error: {run.error}", file=sys.stderr)
    return 0 if run.status == "succeeded" else 1


def _runs(args: argparse.Namespace) -> int:
    from gpttrader.store import Database
    from gpttrader.store.runs import RUNS_FILE, RunRegistry

    if not (args.runs / RUNS_FILE).exists():
        print(f"no runs yet: {args.runs / RUNS_FILE} does not exist", file=sys.stderr)
        return 0
    database = Database(args.runs / RUNS_FILE)
    try:
        rows = RunRegistry(database).latest(args.lines, name=args.name)
    finally:
        database.close()
    for run in rows:
        took = "" if run.finished_at is None else f" in {(run.finished_at - run.started_at).total_seconds():.1f} s"
        print(f"#{run.id} {run.started_at:%Y-%m-%d %H:%M:%S} {run.name} {run.status}{took} {run.output}")
        if run.error:
            print(f"    {run.error}")
    return 0
