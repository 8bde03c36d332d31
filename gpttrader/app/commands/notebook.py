"""`gpttrader notebook run|runs|scan`: a notebook run headless through the runner, the run registry, and a
notebook checked for secrets.

What these commands print of an error goes through the runs' secret redaction: a message may quote a value
(a parameter, a failing cell's exception), and the value may hold a secret.
"""

import argparse
import sys
from pathlib import Path
from typing import Any

from gpttrader.app.arguments import positive_int
from gpttrader.config.errors import ConfigError
from gpttrader.store.errors import StoreError


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
        help="a parameter; read as the notebook declares it: the text as typed for a str (2025-02-01), else YAML "
        "(10, 0.5, true, [5, 10])",
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
    scan = notebook_commands.add_parser(
        "scan", help="check a notebook (one saved by hand, say) for this environment's API secrets and key patterns"
    )
    scan.add_argument("path", type=Path, help="the .ipynb file")
    scan.set_defaults(run=_scan)


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


def refused(error: ConfigError | StoreError) -> int:
    """Exit status 2, with the error on stderr, redacted: the commands' one way to refuse."""
    from gpttrader.runs.leaks import redact_secrets

    print(f"gpttrader: error: {redact_secrets(str(error))}", file=sys.stderr)
    return 2


def _file_parameters(path: Path | None) -> dict[str, Any]:
    from gpttrader.config.yaml_files import read_yaml
    from gpttrader.runs import ParameterError

    loaded = {} if path is None else read_yaml(path)
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ParameterError(f"{path}: must hold a mapping of parameter names to values, not {type(loaded).__name__}")
    return loaded


def _run(args: argparse.Namespace) -> int:
    from gpttrader.runs import notebook_path, read_parameters, run_notebook
    from gpttrader.runs.leaks import redact_secrets
    from gpttrader.store.runs import RUNS_FILE, open_registry

    try:
        source = notebook_path(args.name, args.notebooks)
        parameters = _file_parameters(args.parameters_file) | read_parameters(source, args.parameter)
        with open_registry(args.runs / RUNS_FILE) as registry:
            run = run_notebook(
                args.name, parameters, notebooks=args.notebooks, runs=args.runs, registry=registry, kernel=args.kernel
            )
    except (ConfigError, StoreError) as exc:
        return refused(exc)
    print(f"run {run.id} of {run.name}: {run.status}")
    print(f"notebook: {run.output}")
    if run.html is not None:
        print(f"html: {run.html}")
    if run.error:
        print(f"error: {redact_secrets(run.error)}", file=sys.stderr)
    return 0 if run.status == "succeeded" else 1


def _runs(args: argparse.Namespace) -> int:
    from gpttrader.runs.leaks import redact_secrets, register_environment_secrets
    from gpttrader.store.runs import RUNS_FILE, open_registry

    if not (args.runs / RUNS_FILE).exists():
        print(f"no runs yet: {args.runs / RUNS_FILE} does not exist", file=sys.stderr)
        return 0
    try:
        register_environment_secrets()  # rows written before errors were redacted are redacted when shown
        with open_registry(args.runs / RUNS_FILE) as registry:
            rows = registry.latest(args.lines, name=args.name)
    except (ConfigError, StoreError) as exc:
        return refused(exc)
    for run in rows:
        took = "" if run.finished_at is None else f" in {(run.finished_at - run.started_at).total_seconds():.1f} s"
        print(f"#{run.id} {run.started_at:%Y-%m-%d %H:%M:%S} {run.name} {run.status}{took} {run.output}")
        if run.error:
            print(f"    {redact_secrets(run.error)}")
    return 0


def _scan(args: argparse.Namespace) -> int:
    from gpttrader.config.secrets import registered_secret_values
    from gpttrader.runs.leaks import register_environment_secrets, scan_notebook

    try:
        register_environment_secrets()
        places = scan_notebook(args.path)
    except ConfigError as exc:
        return refused(exc)
    if places:
        print(
            f"{args.path}: secret-like text in {', '.join(places)}; clear it there (Edit > Clear Outputs for an "
            "output) before the notebook is shared, and rotate the key if it already was"
        )
        return 1
    known = "this environment's credentials and " if registered_secret_values() else ""
    print(f"{args.path}: clean (checked for {known}private keys, JWTs and bearer tokens)")
    return 0
