"""Run a notebook headless: its parameters checked before any kernel starts, papermill with the project's
kernel, the executed notebook and an HTML export under `papermill_runs/<name>/<UTC time>.*`, a registry row
for every run, and the output scanned for secrets (one found fails the run, and is redacted from the files;
the error a run records is redacted the same way).

A run may be given a timeout for the whole run: each cell is allowed what is left of it, so a hung cell
stops the run when the time is up, the kernel is shut down (killed if it does not stop) and the run is
recorded `timed_out`.
"""

import json
import logging
import math
import time
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nbformat
import papermill
import zmq
from nbclient.exceptions import CellTimeoutError
from nbconvert import HTMLExporter
from papermill.exceptions import PapermillExecutionError
from traitlets.config import Config

from gpttrader.runs.display import embed_plotlyjs
from gpttrader.runs.leaks import redact_secrets, register_environment_secrets, scrub_notebook
from gpttrader.runs.parameters import ParameterError, check_parameters
from gpttrader.store.runs import Run, RunRegistry

log = logging.getLogger(__name__)

PROJECT_KERNEL = "gpttrader"  # `make lab` registers it; headless runs fall back to this environment's python3
# The kernel's sockets encrypted (CurveZMQ keys made by the kernel manager) wherever the kernel says it can
# be: ipykernel warns on every start that runs over TCP without. libzmq built without libsodium cannot.
_KERNEL_CONFIG = Config({"KernelManager": {"transport_encryption": "auto" if zmq.has("curve") else "disabled"}})


def available_notebooks(notebooks: Path) -> list[str]:
    return sorted(p.stem for p in notebooks.glob("*.ipynb"))


def notebook_path(name: str, notebooks: Path) -> Path:
    source = notebooks / f"{name}.ipynb"
    if not source.is_file():
        raise ParameterError(
            f"no notebook {name!r} in {notebooks}; notebooks: {', '.join(available_notebooks(notebooks))}"
        )
    return source


def run_notebook(
    name: str,
    parameters: Mapping[str, Any],
    *,
    notebooks: Path,
    runs: Path,
    registry: RunRegistry,
    kernel: str | None = None,
    job: str | None = None,
    timeout: timedelta | None = None,
) -> Run:
    register_environment_secrets()  # before the parameters are checked, so that none may carry a secret
    source = notebook_path(name, notebooks)
    checked = check_parameters(source, parameters)
    for lost in registry.interrupt_abandoned():
        log.warning("run %d of %s was interrupted: %s", lost.id, lost.name, lost.error)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    output = runs / name / f"{stamp}.ipynb"
    output.parent.mkdir(parents=True, exist_ok=True)
    run_id = registry.start(name, checked, output, job=job)
    status, error = "succeeded", None
    deadline = None if timeout is None else time.monotonic() + timeout.total_seconds()
    try:
        papermill.execute_notebook(
            str(source),
            str(output),
            parameters=dict(checked),
            kernel_name=kernel or _kernel(),
            progress_bar=False,
            cwd=str(notebooks),
            config=_KERNEL_CONFIG,
            # nbclient reads None (or 0) as "no timeout", so a cell that starts after the deadline gets 1 s
            timeout_func=None if deadline is None else lambda cell: max(1, math.ceil(deadline - time.monotonic())),
        )
    except PapermillExecutionError as exc:
        status = "failed"
        error = f"cell {exc.cell_index} ({_first_line(exc.source)!r}) raised {exc.ename}: {exc.evalue}"
    except CellTimeoutError:
        limit = "" if timeout is None else f" after {timeout.total_seconds() / 60:g} min"
        status, error = "timed_out", f"timed out{limit}{_running_cell(output)}; its kernel was stopped"
    except Exception as exc:  # the kernel died or never started: the run failed, the runner did not
        status, error = "failed", f"{type(exc).__name__}: {exc}"
    html = None
    if output.exists():
        leaked = scrub_notebook(output)
        html = _export(output)
        if leaked:
            leak = f"secret-like text in {', '.join(leaked)} (redacted from the files)"
            status, error = ("failed", leak) if error is None else (status, f"{error}; {leak}")
    return registry.finish(run_id, status, html=html, error=None if error is None else redact_secrets(error))


def _first_line(source: str) -> str:
    return next((line for line in str(source).splitlines() if line.strip()), "")


def _running_cell(output: Path) -> str:
    """` in cell 3 ('while True:')`: the last cell papermill started, as its output notebook records."""
    if not output.exists():
        return ""
    cells = json.loads(output.read_text(encoding="utf-8")).get("cells", [])
    started = [i for i, cell in enumerate(cells) if cell.get("metadata", {}).get("papermill", {}).get("start_time")]
    if not started:
        return ""
    source = cells[started[-1]].get("source", "")
    return f" in cell {started[-1]} ({_first_line(''.join(source) if isinstance(source, list) else source)!r})"


def _kernel() -> str:
    from jupyter_client.kernelspec import KernelSpecManager

    return PROJECT_KERNEL if PROJECT_KERNEL in KernelSpecManager().find_kernel_specs() else "python3"


def _export(path: Path) -> Path:
    """The run as HTML, its figures drawn offline: those shown through `gpttrader.runs.display` carry their
    HTML, and plotly.js is embedded once for them. A figure shown with plotly's mimetype alone has no HTML
    form, so nbconvert's warning about it is expected and silenced."""
    notebook = nbformat.read(str(path), as_version=4)  # type: ignore[no-untyped-call]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Your element with mimetype", category=UserWarning)
        body, _ = HTMLExporter().from_notebook_node(notebook)  # type: ignore[no-untyped-call]
    html = path.with_suffix(".html")
    html.write_text(embed_plotlyjs(body), encoding="utf-8")
    return html
