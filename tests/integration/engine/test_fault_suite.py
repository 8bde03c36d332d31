"""The fault suite (issue 12): the canary bot through fifty restarts under SIGKILLs at random moments,
lost answers on order posts, 5xx, 429s and cut sockets; the exchange must never see a decision twice, a
fill lost or a position beyond the cap (fault_harness.py; benchmarks/fault_restarts.py runs 500)."""

from decimal import Decimal
from pathlib import Path

import pytest

from gpttrader.sandbox import RunningSandbox
from tests.integration.engine.fault_harness import decisions_sent_once, run_suite, within_cap
from tests.integration.sandbox.conftest import SandboxFactory

SEED = 12


@pytest.mark.slow
def test_fifty_restarts_under_faults(tmp_path: Path) -> None:
    figures = run_suite(tmp_path, restarts=50, seed=SEED)
    shown = "\n".join(figures.lines())
    # Enough happened for the checks to mean something: kills, faults met, orders made.
    assert figures.kills >= 15, shown
    assert figures.injected >= 30, shown
    assert figures.orders >= 30, shown
    assert figures.violations == (), shown


def market(sandbox: RunningSandbox, cid: str, side: str) -> None:
    body = {"product_id": "BTC-USD", "side": side, "order_configuration": {"market_market_ioc": {"base_size": "0.5"}}}
    sandbox.exchange.create(cid, sandbox.exchange.parse(body))


def test_the_checks_catch_a_sale_made_twice(start_sandbox: SandboxFactory) -> None:
    sandbox = start_sandbox()
    market(sandbox, "buy", "BUY")
    market(sandbox, "sell", "SELL")
    orders, fills = list(sandbox.exchange.orders.values()), sandbox.exchange.fills
    assert decisions_sent_once(orders) == []
    assert within_cap(fills, Decimal("0.5"))[1] == []
    market(sandbox, "sell-again", "SELL")  # the account's own coin, which the bot never bought
    orders, fills = list(sandbox.exchange.orders.values()), sandbox.exchange.fills
    assert decisions_sent_once(orders) == ["1 orders repeated a decision carried out already: sell-again after sell"]
    highest, breached = within_cap(fills, Decimal("0.5"))
    assert highest == Decimal("0.5")
    assert "from -0.5" in breached[0]
    assert within_cap([f for f in fills if f.client_order_id == "buy"], Decimal("0.4"))[1]  # over a smaller cap
