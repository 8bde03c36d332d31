"""What the notebook and schedule commands refuse: exit 2, the file or flag named with the value and what is
allowed, nothing run, never a traceback. And a `str` parameter typed on the command line is the text as
typed (the research notebook's own example, `-p start 2025-02-01`)."""

import sqlite3
import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from gpttrader.runs import check_parameters, read_parameters
from gpttrader.store import Database
from gpttrader.store.runs import RUNS_FILE, RunRegistry
from tests.integration.runs.conftest import gpttrader

RESEARCH = Path(__file__).resolve().parents[3] / "notebooks" / "research.ipynb"


def refused(result: subprocess.CompletedProcess[str], *named: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    for text in named:
        assert text in result.stderr, result.stderr


def test_a_missing_parameters_file(notebooks: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    result = gpttrader(
        "notebook", "run", "echo", "-f", tmp_path / "missing.yaml", "--notebooks", notebooks, "--runs", runs
    )
    refused(result, "missing.yaml: no such file")
    assert not runs.exists()  # nothing ran, nothing registered


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fast: [1\n", "params.yaml, line 2, column 1"),
        ("- 1\n- 2\n", "params.yaml: must hold a mapping of parameter names to values, not list"),
        (b"fast: 1 # \xe9t\xe9\n", "params.yaml: not UTF-8 text"),
    ],
)
def test_a_bad_parameters_file(notebooks: Path, tmp_path: Path, text: str | bytes, message: str) -> None:
    params = tmp_path / "params.yaml"
    params.write_bytes(text if isinstance(text, bytes) else text.encode())
    runs = tmp_path / "runs"
    refused(gpttrader("notebook", "run", "echo", "-f", params, "--notebooks", notebooks, "--runs", runs), message)
    assert not runs.exists()


def test_a_bad_schedules_file(notebooks: Path, tmp_path: Path) -> None:
    schedules = tmp_path / "schedules.yaml"
    schedules.write_text("jobs:\n  - {name: a, cron: '0 0 31 2 *', notebook: echo}\n")
    result = gpttrader("schedule", "--file", schedules, "--notebooks", notebooks, "--runs", tmp_path, timeout=60)
    refused(result, "schedules.yaml: jobs[0] (a): cron '0 0 31 2 *' never fires")
    schedules.write_text("jobs:\n  - {name: a, cron: '* * * * *', notebook: echo\n")
    result = gpttrader("schedule", "--file", schedules, "--notebooks", notebooks, "--runs", tmp_path, timeout=60)
    refused(result, f"{schedules}, line 3, column 1")
    assert not (tmp_path / RUNS_FILE).exists()


def test_str_parameters_take_the_text_as_typed() -> None:
    typed = read_parameters(RESEARCH, [("start", "2025-02-01"), ("fee", "0.001"), ("strategy_params", "{fast: 5}")])
    assert typed == {"start": "2025-02-01", "fee": 0.001, "strategy_params": {"fast": 5}}
    assert check_parameters(RESEARCH, typed) == typed
    assert read_parameters(RESEARCH, [("strategy", "10")]) == {"strategy": "10"}
    # in a parameters file, YAML reads an unquoted date as a date: for a `str` parameter, it is the date as written
    assert check_parameters(RESEARCH, {"end": date(2025, 3, 1)}) == {"end": "2025-03-01"}


def test_a_non_str_value_typed_on_the_command_line_is_yaml(notebooks: Path, tmp_path: Path) -> None:
    result = gpttrader("notebook", "run", "echo", "-p", "windows", "[1", "--notebooks", notebooks, "--runs", tmp_path)
    refused(result, "-p windows '[1'")


@pytest.mark.slow
def test_the_research_readme_example_runs_as_typed(notebooks: Path, tmp_path: Path) -> None:
    """The echo notebook's `product` is a str, as research's `start` is: the date is passed as typed."""
    runs = tmp_path / "runs"
    result = gpttrader(
        "notebook", "run", "echo", "-p", "product", "2025-02-01", "--notebooks", notebooks, "--runs", runs
    )
    assert result.returncode == 0, result.stderr
    [output] = (runs / "echo").glob("*.ipynb")
    assert "2025-02-01 10 0.006 [5, 10]" in output.read_text()


def garble(path: Path) -> None:
    path.write_bytes(b"this is not an SQLite database, whatever its name says" * 100)


def empty(path: Path) -> None:
    path.write_bytes(b"")


def garble_a_page(path: Path) -> None:
    """A registry with history whose table pages were overwritten, as a bad disk would."""
    database = Database(path)
    registry = RunRegistry(database)
    for i in range(200):
        registry.finish(registry.start("echo", {"i": i, "pad": "x" * 200}, path.parent / f"{i}.ipynb"), "succeeded")
    database.close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    data[8192 : 8192 + 3 * 4096] = b"\xff" * (3 * 4096)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [garble, empty, garble_a_page])
def test_a_damaged_run_registry_is_named_with_the_fix(
    notebooks: Path, tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    registry = tmp_path / RUNS_FILE
    damage(registry)
    size = registry.stat().st_size
    where: list[str | Path] = ["--notebooks", notebooks, "--runs", tmp_path]
    schedules = tmp_path / "schedules.yaml"
    schedules.write_text("jobs:\n  - {name: a, cron: '0 0 * * *', notebook: echo}\n")
    for command in (["notebook", "runs"], ["notebook", "run", "echo"], ["schedule", "--file", schedules]):
        refused(gpttrader(*command, *where, timeout=60), f"{registry} is not a usable run registry", "mv ")
    assert registry.stat().st_size == size  # not recreated, not written to
    assert not (tmp_path / "echo").exists()  # nothing ran
