"""Preflight against the sandbox through the real SDK: every check passing, and each failing with its fix."""

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from gpttrader.app import ApplicationContainer
from gpttrader.app.preflight import run_preflight
from gpttrader.config import BotConfig
from gpttrader.sandbox import generate_key_file
from tests.integration.coinbase.conftest import config_for
from tests.integration.sandbox.conftest import SandboxFactory


def results(config: BotConfig) -> dict[str, tuple[bool, str, str]]:
    with ApplicationContainer(config) as container:
        return {r.name: (r.passed, r.detail, r.fix) for r in run_preflight(container)}


def test_everything_passes_against_a_healthy_sandbox(config: BotConfig) -> None:
    found = results(config)
    assert all(passed for passed, _, _ in found.values()), found
    assert set(found) == {
        "credentials",
        "connectivity and clock",
        "key permissions",
        "product BTC-USD",
        "account size",
        "market data",
    }
    assert "clock skew" in found["connectivity and clock"][1]


def test_a_view_only_key_fails_with_the_fix(
    start_sandbox: SandboxFactory, clean_env: dict[str, str], tmp_path: Path
) -> None:
    viewer = tmp_path / "viewer.json"
    generate_key_file(viewer, "ES256")
    sandbox = start_sandbox(view_only_key_files=(viewer,))
    config = config_for(sandbox, clean_env, COINBASE_KEY_FILE=str(viewer))
    passed, detail, fix = results(config)["key permissions"]
    assert not passed
    assert detail == "the key lacks trade"
    assert "View and Trade" in fix


def test_limits_that_do_not_fit_the_account(start_sandbox: SandboxFactory, clean_env: dict[str, str]) -> None:
    sandbox = start_sandbox(starting_balances={"USD": Decimal(5)})
    shipped = config_for(sandbox, clean_env)
    passed, detail, _ = results(shipped)["account size"]
    assert passed, detail  # the canary's 1% of equity fits an account of any size
    assert "daily loss limit 0.01 of equity" in detail
    dollars = shipped.guards.daily_loss.model_copy(update={"limit": Decimal(10), "unit": "usd"})
    in_dollars = shipped.model_copy(update={"guards": shipped.guards.model_copy(update={"daily_loss": dollars})})
    passed, detail, fix = results(in_dollars)["account size"]
    assert not passed
    assert "daily loss limit 10 USD" in detail  # $10 is more than the whole $5 account
    assert "guards.daily_loss.limit" in fix


def test_no_credentials_and_the_command(start_sandbox: SandboxFactory, clean_env: dict[str, str]) -> None:
    sandbox = start_sandbox()
    env = {
        **clean_env,
        "COINBASE_SANDBOX_URL": f"https://{sandbox.base_url}",
        "COINBASE_SANDBOX_CERT": str(sandbox.cert_path),
    }
    command = [sys.executable, "-m", "gpttrader.app.cli", "preflight", "--profile", "canary"]
    bare = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert bare.returncode == 1
    assert "[FAIL] credentials: no API key in the environment" in bare.stdout
    assert "fix: set COINBASE_API_KEY" in bare.stdout
    keyed = {**env, "COINBASE_KEY_FILE": str(sandbox.settings.key_files[0])}
    good = subprocess.run(command, capture_output=True, text=True, env=keyed, timeout=60)
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.count("[PASS]") == 6
    assert json.loads(Path(sandbox.settings.key_files[0]).read_text())["privateKey"] not in good.stdout
