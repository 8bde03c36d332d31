"""`gpttrader order ...` against a sandbox, as a user runs it."""

import subprocess
import sys
from pathlib import Path

from gpttrader.sandbox import RunningSandbox
from tests.integration.sandbox.conftest import sdk_client


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("gpttrader")
    return subprocess.run(
        [str(script), "order", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def sandbox_env(sandbox: RunningSandbox, env: dict[str, str]) -> dict[str, str]:
    assert sandbox.cert_path is not None
    return {
        **env,
        "COINBASE_SANDBOX_URL": f"https://{sandbox.base_url}",
        "COINBASE_SANDBOX_CERT": str(sandbox.cert_path),
        "COINBASE_KEY_FILE": str(sandbox.settings.key_files[0]),
    }


def test_place_list_and_cancel(sandbox: RunningSandbox, clean_env: dict[str, str]) -> None:
    env = sandbox_env(sandbox, clean_env)
    placed = run(
        env,
        "place",
        "--profile",
        "canary",
        "--product",
        "BTC-USD",
        "--side",
        "sell",
        "--size",
        "0.01",
        "--limit-price",
        "999999",
    )
    assert placed.returncode == 0, placed.stderr
    client_order_id, status = placed.stdout.split()[:2]
    assert status == "OPEN"
    assert client_order_id.startswith("canary-cli-")  # the profile's own: its bot leaves it working
    listed = run(env, "list", "--profile", "canary", "--open")
    assert client_order_id in listed.stdout
    cancelled = run(env, "cancel", "--profile", "canary", client_order_id)
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout.split()[1] == "CANCELLED"
    assert [o.status for o in sdk_client(sandbox).list_orders().orders] == ["CANCELLED"]
    assert run(env, "list", "--profile", "canary", "--open").stdout == ""
    unknown = run(env, "cancel", "--profile", "canary", "canary-cli-nope")
    assert unknown.returncode == 2
    assert "no order canary-cli-nope" in unknown.stderr


def test_rejected_orders_exit_1_with_the_reason(sandbox: RunningSandbox, clean_env: dict[str, str]) -> None:
    env = sandbox_env(sandbox, clean_env)
    result = run(env, "place", "--profile", "canary", "--product", "BTC-USD", "--side", "BUY", "--size", "50")
    assert result.returncode == 1
    assert "INSUFFICIENT_FUND" in result.stderr
    tiny = run(env, "place", "--profile", "canary", "--product", "BTC-USD", "--side", "BUY", "--size", "0.0000001")
    assert tiny.returncode == 1
    assert "SIZE_BELOW_MINIMUM" in tiny.stderr


def test_order_commands_refuse_non_sandbox_and_non_coinbase_profiles(clean_env: dict[str, str]) -> None:
    live = run(clean_env, "place", "--profile", "canary", "--product", "BTC-USD", "--side", "BUY", "--size", "1")
    assert live.returncode == 2
    assert "sandbox exchange only" in live.stderr
    dev = run(clean_env, "list", "--profile", "dev")
    assert dev.returncode == 2
    assert "trades through the deterministic broker" in dev.stderr
    bad = run(clean_env, "place", "--profile", "canary", "--product", "BTC-USD", "--side", "HOLD", "--size", "1")
    assert bad.returncode == 2
    assert "invalid choice: 'HOLD'" in bad.stderr
    negative = run(clean_env, "place", "--profile", "canary", "--product", "BTC-USD", "--side", "BUY", "--size", "-1")
    assert negative.returncode == 2
    assert "argument --size: -1 is out of range: an amount is above 0" in negative.stderr
