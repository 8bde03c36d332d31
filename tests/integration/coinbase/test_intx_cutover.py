"""INTX order entry left Advanced Trade on `coinbase.intx_cutover` (announced for 2026-10-01): a live profile
with an INTX perpetual does not start on Coinbase production after it, and says why and what to do; before
it, or against a sandbox (not Coinbase), the gated perpetual path runs as it did. Through the CLI, as run."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gpttrader.config.models import CoinbaseSettings
from tests.integration.engine.sessions import sandbox_env
from tests.integration.sandbox.conftest import SandboxFactory

CLI = (sys.executable, "-m", "gpttrader.app.cli")
MOVED = "INTX order entry moved off Advanced Trade after 2026-10-01 (coinbase.intx_cutover)"


def hedged_canary(env: dict[str, str], **settings: str) -> dict[str, str]:
    """The canary with an INTX perpetual beside its spot market, as an operator's file sets it."""
    profiles = Path(env["GPTTRADER_DATA_DIR"]) / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    lines = ["symbols: [BTC-USD, BTC-PERP-INTX]"]
    if settings:
        lines += ["coinbase:", *(f"  {name}: {value!r}" for name, value in settings.items())]
    (profiles / "canary.yaml").write_text("\n".join(lines) + "\n")
    return {**env, "COINBASE_ENABLE_DERIVATIVES": "1"}


def gpttrader(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=60)


def test_the_cutover_is_a_setting_with_the_announced_day() -> None:
    assert str(CoinbaseSettings().intx_cutover) == "2026-10-01"


def test_after_the_cutover_production_refuses_the_perpetual(clean_env: dict[str, str]) -> None:
    # No sandbox URL: Coinbase production. No key either: nothing here may need the network to say this.
    env = hedged_canary(clean_env)
    preflight = gpttrader(env, "preflight", "--profile", "canary")
    assert preflight.returncode == 1
    assert f"[FAIL] INTX order entry: {MOVED}: BTC-PERP-INTX cannot be ordered" in preflight.stdout
    assert "fix: remove BTC-PERP-INTX from profile canary's symbols" in preflight.stdout
    assert "set coinbase.intx_cutover to the day it moves" in preflight.stdout
    run = gpttrader(env, "run", "--profile", "canary", "--live")
    assert run.returncode == 2
    assert f"gpttrader: error: {MOVED}: BTC-PERP-INTX" in run.stderr
    assert "coinbase.intx_cutover to the day it moves" in run.stderr
    assert not (Path(env["GPTTRADER_DATA_DIR"]) / "state" / "canary").exists()  # nothing started
    shown = gpttrader(env, "risk", "show", "--profile", "canary")
    assert shown.returncode == 0
    assert f"not startable: {MOVED}: BTC-PERP-INTX" in shown.stdout
    activated = gpttrader(env, "risk", "set", "active", "--profile", "canary", "--reason", "test")
    assert activated.returncode == 0
    assert f"but the profile does not start: {MOVED}" in activated.stderr


def test_an_account_whose_intx_has_not_moved_sets_a_later_day(clean_env: dict[str, str]) -> None:
    later = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    env = hedged_canary(clean_env, intx_cutover=later)
    preflight = gpttrader(env, "preflight", "--profile", "canary")
    assert f"[PASS] INTX order entry: BTC-PERP-INTX on Advanced Trade until {later}" in preflight.stdout
    assert "[FAIL] credentials" in preflight.stdout  # the next check: it went on to the key
    run = gpttrader(env, "run", "--profile", "canary", "--live")
    assert "INTX order entry moved" not in run.stderr
    assert "[FAIL] credentials: no API key in the environment" in run.stderr
    assert "not startable" not in gpttrader(env, "risk", "show", "--profile", "canary").stdout


def test_a_sandbox_is_not_coinbase_and_keeps_trading_perpetuals(
    start_sandbox: SandboxFactory, clean_env: dict[str, str]
) -> None:
    sandbox = start_sandbox(derivatives_enabled=True)
    env = {**hedged_canary(clean_env), **sandbox_env(sandbox)}
    preflight = gpttrader(env, "preflight", "--profile", "canary")
    assert preflight.returncode == 0, preflight.stdout + preflight.stderr
    assert f"[PASS] INTX order entry: BTC-PERP-INTX through the sandbox at https://{sandbox.base_url}" in (
        preflight.stdout
    )
    assert "[PASS] product BTC-PERP-INTX: tradable" in preflight.stdout
    run = gpttrader(env, "run", "--profile", "canary")  # no opt-in: it stops at the gate, past the INTX rule
    assert run.returncode == 2
    assert "[PASS] INTX order entry" in run.stderr
    assert "not trading: no opt-in" in run.stderr
