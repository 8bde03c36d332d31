"""Crash and restart: the canary bot is killed with SIGKILL at points along its order path, then
restarted. Never a duplicate order on the exchange, no fill lost or counted twice, and the bot's position
equal to what the exchange's books say it bought."""

import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from gpttrader.brokers.coinbase import create_coinbase_broker
from gpttrader.config import load_config
from gpttrader.domain import OrderStatus, Side
from gpttrader.sandbox import RunningSandbox
from gpttrader.store import Database, OrdersStore
from tests.integration.engine.conftest import sandbox_env
from tests.integration.sandbox.conftest import SandboxFactory

ROOT = Path(__file__).resolve().parents[3]
# What the restart's reconciliation must have found, for each point of the crash.
EXPECTED = {
    "before_send": {"unresolved": 1},  # stored PENDING, never sent: unknown, then sent under its own id
    "after_send": {"recovered": 1},  # at the exchange, PENDING here: found by its client order id
    "after_ack": {"refreshed": 1},  # acknowledged, its fills not yet read: read now
    "mid_fills": {"refreshed": 1},  # one fill of several recorded: the rest now, that one not again
    "after_submit": {},  # everything recorded; the bot's books are rebuilt from the store
}
START = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def bot_process(sandbox: RunningSandbox, data: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "tests.integration.engine.crash_bot",
        "--data",
        str(data),
        "--url",
        f"https://{sandbox.base_url}",
        "--cert",
        str(sandbox.cert_path),
        "--key",
        str(sandbox.settings.key_files[0]),
        *extra,
    ]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)


@pytest.mark.slow
@pytest.mark.parametrize("point", ["before_send", "after_send", "after_ack", "mid_fills", "after_submit"])
def test_killed_then_restarted(start_sandbox: SandboxFactory, tmp_path: Path, point: str) -> None:
    sandbox = start_sandbox(virtual_start=START.timestamp(), speed=1.0)
    crashed = bot_process(sandbox, tmp_path, "--crash", point, "--cycles", "30")
    assert crashed.returncode == -9, f"{point} was never reached:\n{crashed.stdout}\n{crashed.stderr[-2000:]}"
    restarted = bot_process(sandbox, tmp_path, "--cycles", "8")
    assert restarted.returncode == 0, restarted.stderr[-3000:]
    reconcile = json.loads(restarted.stdout.splitlines()[-1])["reconcile"]
    assert reconcile["mismatches"] == []
    found = {key: len(value) for key, value in reconcile.items() if value}
    assert found == EXPECTED[point], reconcile

    config = load_config(
        "canary",
        env=sandbox_env(sandbox),
    )
    exchange = create_coinbase_broker(config)
    theirs = exchange.list_orders("BTC-USD")
    store = OrdersStore(Database(tmp_path / "state" / "canary" / "gpttrader.sqlite"))
    ours = store.all_orders()
    assert theirs, "the sessions should have traded"
    assert max(Counter(o.client_order_id for o in theirs).values()) == 1  # never sent twice
    assert {o.client_order_id for o in theirs} <= {o.client_order_id for o in ours}
    assert all(o.status is not OrderStatus.PENDING for o in ours)
    stored = {f.trade_id: f for f in store.fills()}
    traded = {f.trade_id: f for f in exchange.fills(product_id="BTC-USD")}
    assert stored.keys() == traded.keys()  # every fill once: none lost, none twice
    for order in ours:  # what the store says each order did is what the exchange says
        if order.order_id is not None:
            venue = exchange.get_order(order.order_id)
            assert (order.status, order.filled_size) == (venue.status, venue.filled_size)
    bought = sum((f.size if f.side is Side.BUY else -f.size for f in stored.values()), Decimal(0))
    btc = next(b.total for b in exchange.balances() if b.currency == "BTC")
    assert btc == 1 + bought  # the sandbox account started with 1 BTC
