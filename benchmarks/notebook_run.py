"""A headless run of the research notebook on the sample data through the runner, against a trivial
two-cell notebook as the floor (the kernel's start-up). Aim: under 15 s in all and under 3x the floor."""

import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from gpttrader.app.commands.notebook import project_dir
from gpttrader.runs import run_notebook
from gpttrader.store import Database
from gpttrader.store.runs import RUNS_FILE, RunRegistry


def timed(name: str, notebooks: Path, runs: Path, registry: RunRegistry) -> float:
    started = time.perf_counter()
    run = run_notebook(name, {}, notebooks=notebooks, runs=runs, registry=registry)
    if run.status != "succeeded":
        raise SystemExit(f"{name} failed: {run.error}")
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        trivial = new_notebook()
        parameters = new_code_cell("x = 1")
        parameters.metadata["tags"] = ["parameters"]
        trivial.cells = [parameters, new_code_cell("print(x)")]
        trivial.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        floor_dir = root / "floor"
        floor_dir.mkdir()
        nbformat.write(trivial, str(floor_dir / "trivial.ipynb"))
        registry = RunRegistry(Database(root / "runs" / RUNS_FILE))
        floor = min(timed("trivial", floor_dir, root / "runs", registry) for _ in range(2))
        research = min(timed("research", project_dir() / "notebooks", root / "runs", registry) for _ in range(2))
        print(f"trivial two-cell notebook (kernel start-up floor): {floor:.2f} s")
        print(f"research notebook on the sample data: {research:.2f} s ({research / floor:.1f}x the floor)")


if __name__ == "__main__":
    main()
