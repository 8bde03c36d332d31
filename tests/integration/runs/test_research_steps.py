"""The research notebook's data step against Coinbase's public endpoints (the sandbox's), fetched into the
cache, and the backtest step with a profile's risk manager."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gpttrader.app import research
from gpttrader.sandbox import RunningSandbox
from tests.integration.sandbox.conftest import SandboxFactory


def test_candles_from_coinbase_land_in_the_cache(
    start_sandbox: SandboxFactory, clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox: RunningSandbox = start_sandbox()
    monkeypatch.setenv("COINBASE_SANDBOX_URL", f"https://{sandbox.base_url}")
    monkeypatch.setenv("COINBASE_SANDBOX_CERT", str(sandbox.cert_path))
    today = datetime.now(UTC).date()
    start, end = (today - timedelta(days=1)).isoformat(), today.isoformat()
    candles = research.load(["BTC-USD"], "ONE_HOUR", start, end, source="coinbase")
    assert len(candles["BTC-USD"]) == 24
    candles_dir = Path(clean_env["GPTTRADER_DATA_DIR"]) / "cache" / "candles"
    cached = candles_dir / "sandbox" / "BTC-USD" / "ONE_HOUR.parquet"  # the sandbox's, never Coinbase's
    assert cached.exists()
    assert not (candles_dir / "coinbase").exists()
    again = research.load(["BTC-USD"], "ONE_HOUR", start, end, source="cache")
    assert len(again["BTC-USD"]) == 24


def test_a_backtest_step_with_a_profiles_risk(clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPTTRADER_DATA_DIR", str(Path(__file__).resolve().parents[3] / "data"))  # the samples
    candles = research.load(["BTC-USD"], "ONE_HOUR", "2025-01-01", "2025-03-01")
    guarded = research.backtest("ma_cross", {"fast": 10, "slow": 30}, candles, cash=20_000, risk_profile="paper")
    assert guarded.risk_state is not None
    free = research.backtest("ma_cross", {"fast": 10, "slow": 30}, candles, cash=20_000)
    assert free.risk_state is None
    assert research.summary(free).loc["trades", "value"] > 0
