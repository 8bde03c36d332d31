"""Run a notebook headless: its parameters checked before any kernel starts, papermill with the project's
kernel, the executed notebook and an HTML export under `papermill_runs/<name>/<UTC time>.*`, a registry row
for every run, and the output scanned for secrets (one found fails the run, and is redacted from the files).
"""

import json
import os
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
import papermill
from nbconvert import HTMLExporter
from papermill.exceptions import PapermillExecutionError

from gpttrader.config.redaction import redact
from gpttrader.config.secrets import load_credentials
from gpttrader.runs.parameters import ParameterError, check_parameters
from gpttrader.store.runs import Run, RunRegistry

PROJECT_KERNEL = "gpttrader"  # `make lab` registers it; headless runs fall back to this environment's python3


def available_notebooks(notebooks: Path) -> list[str]:
    return sorted(p.stem for p in notebooks.glob("*.ipynb"))


def run_notebook(
    name: str,
    parameters: Mapping[str, Any],
    *,
    notebooks: Path,
    runs: Path,
    registry: RunRegistry,
    kernel: str | None = None,
    job: str | None = None,
) -> Run:
    source = notebooks / f"{name}.ipynb"
    if not source.is_file():
        raise ParameterError(
            f"no notebook {name!r} in {notebooks}; notebooks: {', '.join(available_notebooks(notebooks))}"
        )
    checked = check_parameters(source, parameters)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    output = runs / name / f"{stamp}.ipynb"
    output.parent.mkdir(parents=True, exist_ok=True)
    run_id = registry.start(name, checked, output, job=job)
    error: str | None = None
    try:
        papermill.execute_notebook(
            str(source),
            str(output),
            parameters=dict(checked),
            kernel_name=kernel or _kernel(),
            progress_bar=False,
            cwd=str(notebooks),
        )
    except PapermillExecutionError as exc:
        first_line = next((line for line in str(exc.source).splitlines() if line.strip()), "")
        error = f"cell {exc.cell_index} ({first_line!r}) raised {exc.ename}: {exc.evalue}"
    except Exception as exc:  # the kernel died or never started: the run failed, the runner did not
        error = f"{type(exc).__name__}: {exc}"
    if not output.exists():
        return registry.finish(run_id, "failed", error=error)
    leak = _scrub(output)
    html = _export(output)
    if leak is not None:
        error = f"{error}; {leak}" if error else leak
    return registry.finish(run_id, "failed" if error else "succeeded", html=html, error=error)


def _kernel() -> str:
    from jupyter_client.kernelspec import KernelSpecManager

    return PROJECT_KERNEL if PROJECT_KERNEL in KernelSpecManager().find_kernel_specs() else "python3"


def _scrub(path: Path) -> str | None:
    """Redact secret-looking text from the executed notebook; say which cells had some, or None."""
    load_credentials(os.environ)  # registers this environment's secrets with the redaction
    notebook = json.loads(path.read_text(encoding="utf-8"))
    leaked = []
    for index, cell in enumerate(notebook.get("cells", [])):
        original = json.dumps(cell.get("outputs", []))
        cleaned = redact(original)
        if cleaned != original:
            cell["outputs"] = json.loads(cleaned)
            leaked.append(str(index))
    if not leaked:
        return None
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return f"secret-like text in the output of cell {', '.join(leaked)} (redacted from the files)"


def _export(path: Path) -> Path:
    """The run as HTML. Plotly's own outputs have no HTML form (the research notebook writes a standalone
    report with the figures), so nbconvert's warning about them is expected and silenced."""
    notebook = nbformat.read(str(path), as_version=4)  # type: ignore[no-untyped-call]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Your element with mimetype", category=UserWarning)
        body, _ = HTMLExporter().from_notebook_node(notebook)  # type: ignore[no-untyped-call]
    html = path.with_suffix(".html")
    html.write_text(body, encoding="utf-8")
    return html
