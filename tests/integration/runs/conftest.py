"""What the runner and scheduler tests share: the fixture notebooks in a folder of their own, API credentials
in the environment (the secret the leak tests look for), and the `gpttrader` command run as a user runs it."""

import shutil
import subprocess
import sys
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "notebooks"
# An Ed25519-style secret: no PEM armour or JWT shape, so only its value can give it away.
API_SECRET = "k9TzQ2vXw8LmN4pR7sY1bH6jF3gD5cA0eU2iO8qW1zX4vB7nM0lK3jH6gF9dS2aP"


@pytest.fixture
def notebooks(tmp_path: Path) -> Path:
    folder = tmp_path / "notebooks"
    shutil.copytree(FIXTURES, folder)
    return folder


@pytest.fixture
def credentials(clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    """The API secret, set in this process's environment (and so in its kernels')."""
    monkeypatch.setenv("COINBASE_API_KEY", "organizations/test-org/apiKeys/test-key-0001")
    monkeypatch.setenv("COINBASE_API_SECRET", API_SECRET)
    return API_SECRET


def gpttrader(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gpttrader.app.cli", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


def gone(pid: int) -> bool:
    """The process has exited (a zombie has: only its exit status is left for its parent to collect)."""
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True
