"""The API secret kept out of what runs leave and what the commands print: a failing cell's message that
holds it, a parameter that carries it, a secret printed in two halves, and a notebook saved by hand."""

import json
from pathlib import Path

import pytest

from gpttrader.runs import ParameterError, run_notebook
from gpttrader.store import Database
from gpttrader.store.runs import RUNS_FILE, RunRegistry
from tests.integration.runs.conftest import gpttrader


def registry(runs: Path) -> RunRegistry:
    return RunRegistry(Database(runs / RUNS_FILE))


def assert_nowhere(secret: str, *texts: str) -> None:
    """Neither the secret nor either of its halves is in any of `texts`."""
    half = len(secret) // 2
    for text in texts:
        for piece in (secret, secret[:half], secret[half:]):
            assert piece not in text


@pytest.mark.slow
def test_a_failing_cells_message_holding_the_secret_is_redacted_wherever_it_goes(
    notebooks: Path, tmp_path: Path, credentials: str
) -> None:
    runs = tmp_path / "runs"
    where: list[str | Path] = ["--notebooks", notebooks, "--runs", runs]
    ran = gpttrader("notebook", "run", "secret", "-p", "leak", "error", *where)
    assert ran.returncode == 1, ran.stderr
    assert "RuntimeError: the exchange refused the key **********" in ran.stderr
    listed = gpttrader("notebook", "runs", *where, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert "RuntimeError: the exchange refused the key **********" in listed.stdout
    [row] = registry(runs).latest()
    assert row.status == "failed"
    assert row.output is not None
    assert row.html is not None
    assert_nowhere(
        credentials,
        ran.stdout,
        ran.stderr,
        listed.stdout,
        row.error or "",
        row.output.read_text(),
        row.html.read_text(),
    )


@pytest.mark.parametrize("carried", ["{secret}", "BTC-{secret}", "{half}"])
def test_a_parameter_carrying_the_secret_is_refused_before_a_kernel_starts(
    notebooks: Path, tmp_path: Path, credentials: str, carried: str
) -> None:
    value = carried.format(secret=credentials, half=credentials[:20])
    with pytest.raises(ParameterError, match="product: looks like a secret") as refused:
        run_notebook("echo", {"product": value}, notebooks=notebooks, runs=tmp_path, registry=registry(tmp_path))
    assert_nowhere(credentials, str(refused.value))
    assert not (tmp_path / "echo").exists()
    assert registry(tmp_path).latest() == []


@pytest.mark.slow
def test_a_secret_printed_in_two_halves_fails_the_run_and_is_redacted(
    notebooks: Path, tmp_path: Path, credentials: str
) -> None:
    run = run_notebook("secret", {"leak": "halves"}, notebooks=notebooks, runs=tmp_path, registry=registry(tmp_path))
    assert run.status == "failed"
    assert run.error == "secret-like text in the output of cell 2 (redacted from the files)"
    assert run.output is not None
    assert run.html is not None
    assert "and the rest: **********" in run.output.read_text()
    assert_nowhere(credentials, run.output.read_text(), run.html.read_text())


def saved_by_hand(notebooks: Path, tmp_path: Path, printed: str) -> Path:
    """The secret notebook as JupyterLab saves it after its second cell printed `printed`."""
    notebook = json.loads((notebooks / "secret.ipynb").read_text())
    notebook["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": [printed, "done\n"]}]
    path = tmp_path / "by_hand.ipynb"
    path.write_text(json.dumps(notebook, indent=1))
    return path


def test_scan_names_the_cells_holding_a_secret_without_printing_it(
    notebooks: Path, tmp_path: Path, credentials: str
) -> None:
    leaky = saved_by_hand(notebooks, tmp_path, f"{credentials[:32]}\n")
    before = leaky.read_text()
    found = gpttrader("notebook", "scan", leaky, timeout=60)
    assert found.returncode == 1, found.stderr
    assert "secret-like text in the output of cell 1;" in found.stdout
    assert_nowhere(credentials, found.stdout, found.stderr)
    assert leaky.read_text() == before  # a scan only looks
    clean = gpttrader("notebook", "scan", saved_by_hand(notebooks, tmp_path, "BTC-USD 10\n"), timeout=60)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "clean (checked for this environment's credentials and private keys" in clean.stdout
    missing = gpttrader("notebook", "scan", tmp_path / "nope.ipynb", timeout=60)
    assert missing.returncode == 2
    assert "nope.ipynb: no such file" in missing.stderr
