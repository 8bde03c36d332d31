"""The papermill runner with a real kernel: a run's notebook, HTML and registry row; a failing cell named;
bad parameters and secrets refused before any kernel starts; a secret in an output fails the run."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gpttrader.runs import ParameterError, notebook_parameters, run_notebook
from gpttrader.store import Database
from gpttrader.store.runs import RUNS_FILE, RunRegistry

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "notebooks"


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    notebooks = tmp_path / "notebooks"
    shutil.copytree(FIXTURES, notebooks)
    return notebooks, tmp_path / "papermill_runs"


def registry(runs: Path) -> RunRegistry:
    return RunRegistry(Database(runs / RUNS_FILE))


def test_the_parameters_cell_is_read() -> None:
    found = notebook_parameters(FIXTURES / "echo.ipynb")
    assert {name: p.type_name for name, p in found.items()} == {
        "product": "str",
        "fast": "int",
        "fee": "float",
        "windows": "list",
        "fail": "bool",
    }


@pytest.mark.slow
def test_a_run_writes_its_notebook_its_html_and_a_registry_row(folders: tuple[Path, Path]) -> None:
    notebooks, runs = folders
    run = run_notebook("echo", {"fast": 20, "fee": 1}, notebooks=notebooks, runs=runs, registry=registry(runs))
    assert run.status == "succeeded", run.error
    assert run.output is not None
    assert run.output.parent == runs / "echo"
    assert "BTC-USD 20 1 [5, 10]" in run.output.read_text()
    assert run.html is not None
    assert "BTC-USD 20 1" in run.html.read_text()
    [row] = registry(runs).latest()
    assert (row.id, row.status, row.parameters, row.error) == (run.id, "succeeded", {"fast": 20, "fee": 1}, None)
    assert row.finished_at is not None
    assert row.finished_at >= row.started_at


@pytest.mark.slow
def test_a_failing_cell_fails_the_run_and_is_named(folders: tuple[Path, Path]) -> None:
    notebooks, runs = folders
    run = run_notebook("echo", {"fail": True}, notebooks=notebooks, runs=runs, registry=registry(runs))
    assert run.status == "failed"
    assert run.error is not None
    assert "('if fail:')" in run.error
    assert "RuntimeError: asked to fail" in run.error
    assert run.output is not None
    assert run.output.exists()  # what ran is kept, for the post-mortem


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"speed": 3}, "speed: unknown; echo.ipynb accepts fail, fast, fee, product, windows"),
        ({"fast": "ten"}, "fast = 'ten': must be int (default 10)"),
        ({"fast": True}, "fast = True: must be int"),
        ({"windows": 5}, "windows = 5: must be list"),
        ({"api_key": "x"}, "api_key: looks like a secret"),
        ({"product": "-----BEGIN EC PRIVATE KEY-----\nabc"}, "product: looks like a secret"),
    ],
)
def test_bad_parameters_are_refused_before_a_kernel_starts(
    folders: tuple[Path, Path], given: dict[str, object], message: str
) -> None:
    notebooks, runs = folders
    with pytest.raises(ParameterError, match=re.escape(message)):
        run_notebook("echo", given, notebooks=notebooks, runs=runs, registry=registry(runs))
    assert not (runs / "echo").exists()  # nothing ran, nothing registered
    with pytest.raises(ParameterError, match="no notebook 'nope' in .*; notebooks: echo"):
        run_notebook("nope", {}, notebooks=notebooks, runs=runs, registry=registry(runs))


@pytest.mark.slow
def test_a_secret_in_an_output_fails_the_run_and_is_redacted(
    folders: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    notebooks, runs = folders
    monkeypatch.setenv(
        "GPTTRADER_TEST_LEAK", "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBIG\n-----END EC PRIVATE KEY-----"
    )
    run = run_notebook("echo", {}, notebooks=notebooks, runs=runs, registry=registry(runs))
    assert run.status == "failed"
    assert run.error == "secret-like text in the output of cell 3 (redacted from the files)"
    assert run.output is not None
    assert run.html is not None
    for path in (run.output, run.html):
        assert "MHcCAQEEIBIG" not in path.read_text()


@pytest.mark.slow
def test_the_commands(folders: tuple[Path, Path], tmp_path: Path) -> None:
    notebooks, runs = folders
    params = tmp_path / "params.yaml"
    params.write_text("fast: 30\nwindows: [1, 2]\n")
    base = [sys.executable, "-m", "gpttrader.app.cli", "notebook"]
    where = ["--notebooks", str(notebooks), "--runs", str(runs)]
    ok = subprocess.run(
        [*base, "run", "echo", "-f", str(params), "-p", "product", "ETH-USD", *where],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert "succeeded" in ok.stdout
    assert "without encryption" not in ok.stderr  # the kernel's sockets are encrypted, so ipykernel has no warning
    bad = subprocess.run([*base, "run", "echo", "-p", "fast", "x", *where], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert "fast = 'x': must be int" in bad.stderr
    listed = subprocess.run([*base, "runs", *where], capture_output=True, text=True, timeout=60)
    assert " echo succeeded in " in listed.stdout
