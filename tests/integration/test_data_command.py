"""`gpttrader data download` and `data list` against the local sandbox's public candles: the cache filled with a
progress bar, a second download fetching only what the cache lacks, and the listing of what is cached."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gpttrader.app.cli import main
from gpttrader.sandbox import RunningSandbox
from tests.integration.conftest import SandboxFactory


@pytest.fixture
def sandbox_market(start_sandbox: SandboxFactory, clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Path:
    """The profile's market data at the sandbox; returns the sandbox venue's cache folder."""
    sandbox: RunningSandbox = start_sandbox()
    monkeypatch.setenv("COINBASE_SANDBOX_URL", f"https://{sandbox.base_url}")
    monkeypatch.setenv("COINBASE_SANDBOX_CERT", str(sandbox.cert_path))
    return Path(clean_env["GPTTRADER_DATA_DIR"]) / "cache" / "candles" / "sandbox"


def days_ago(days: int) -> str:
    return (datetime.now(UTC).date() - timedelta(days=days)).isoformat()


def download(start: str, end: str) -> list[str]:
    return ["data", "download", "--product", "btc-usd", "--granularity", "ONE_HOUR", "--start", start, "--end", end]


def test_download_fills_the_cache_with_a_progress_bar_then_fetches_only_what_is_missing(
    sandbox_market: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(download(days_ago(2), days_ago(0))) == 0
    out, err = capsys.readouterr()
    assert "BTC-USD ONE_HOUR" in err  # tqdm's bar, on stderr
    assert "BTC-USD ONE_HOUR: 48 candles cached" in out
    assert "fetched 48 in 1 request" in out
    assert (sandbox_market / "BTC-USD" / "ONE_HOUR.parquet").is_file()
    assert not (sandbox_market.parent / "coinbase").exists()  # the sandbox's candles, never Coinbase's

    assert main(download(days_ago(3), days_ago(0))) == 0  # one more day before: only that day is asked for
    out, _ = capsys.readouterr()
    assert "BTC-USD ONE_HOUR: 72 candles cached" in out
    assert "fetched 24 in 1 request" in out

    assert main(download(days_ago(3), days_ago(1))) == 0
    out, err = capsys.readouterr()
    assert "already cached" in out
    assert "BTC-USD ONE_HOUR" not in err  # nothing to fetch, no bar


def test_list_shows_what_is_cached(sandbox_market: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "list"]) == 0
    assert "nothing cached" in capsys.readouterr().out
    assert main(download(days_ago(2), days_ago(0))) == 0
    capsys.readouterr()
    assert main(["data", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["venue", "product", "granularity", "first", "last", "rows"]
    row = lines[1].split()
    first = datetime.fromisoformat(f"{days_ago(2)}T00:00:00+00:00")
    assert row[:3] == ["sandbox", "BTC-USD", "ONE_HOUR"]
    assert (row[3], row[4], row[5]) == (first.isoformat(), (first + timedelta(hours=47)).isoformat(), "48")


def test_bad_arguments_are_usage_errors(sandbox_market: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(download(days_ago(0), days_ago(2))) == 2
    assert "must be before --end" in capsys.readouterr().err
    assert not sandbox_market.exists()
