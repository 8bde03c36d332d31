"""Garbled answers (the sandbox's `garble` fault: what a proxy rewriting answers would give) are errors that
name the endpoint and the field; nothing is read from them: no zero equity, no local rejection of an order
the exchange may hold, no order marked unsent from an empty listing."""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.brokers.errors import MalformedAnswerError
from gpttrader.domain import OrderRequest, OrderStatus, OrderType, Side
from gpttrader.domain.events import EventType
from gpttrader.risk import TradingState
from gpttrader.sandbox import RunningSandbox
from tests.integration.engine.sessions import guarded_canary
from tests.integration.engine.strategies import Quiet
from tests.integration.sandbox.conftest import SandboxFactory, admin_call, inject, sdk_client

START = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
API = "/api/v3/brokerage"


@pytest.fixture
def market(start_sandbox: SandboxFactory) -> RunningSandbox:
    return start_sandbox(virtual_start=START.timestamp(), speed=1.0)


def test_each_garbled_answer_names_its_endpoint_and_field(market: RunningSandbox, tmp_path: Path) -> None:
    with ApplicationContainer(guarded_canary(market, tmp_path)) as container:
        broker = container.coinbase_broker
        cases = [
            ({"body": "empty_object", "path_prefix": f"{API}/accounts"}, "list accounts", "'accounts'"),
            (
                {"body": "drop_field", "field": "available_balance", "path_prefix": f"{API}/accounts"},
                "list accounts",
                "'available_balance'",
            ),
            ({"body": "html", "work_first": False, "path_prefix": f"{API}/accounts"}, "list accounts", "not JSON"),
            ({"body": "truncated", "path_prefix": f"{API}/accounts"}, "list accounts", "not JSON"),
        ]
        for plan, endpoint, detail in cases:
            inject(market, kind="garble", **plan)
            with pytest.raises(MalformedAnswerError) as raised:
                broker.balances()
            assert raised.value.endpoint == endpoint
            assert detail in str(raised.value), str(raised.value)
        assert any(b.currency == "USD" for b in broker.balances())  # whole again once the faults are used up


def test_an_empty_accounts_answer_is_no_account_at_start_or_mid_session(market: RunningSandbox, tmp_path: Path) -> None:
    with ApplicationContainer(guarded_canary(market, tmp_path), clock=SandboxClock(market)) as container:
        inject(market, kind="garble", body="empty_object", path_prefix=f"{API}/accounts")
        bot = container.create_bot(Quiet())
        with pytest.raises(MalformedAnswerError, match="list accounts"):
            bot.bootstrap()  # nothing started from an account it could not read
        bot = container.create_bot(Quiet())
        bot.bootstrap()
        bot.run(max_cycles=2)
        inject(market, kind="garble", body="empty_object", count=2, path_prefix=f"{API}/accounts")
        bot.run(max_cycles=4)
        assert bot.state is not None
        health, banner = bot.state.health, bot.state.banner  # as the last cycle left them
        breaches = [e.payload for e in container.event_store.read(types=[EventType.RISK_GUARD_BREACHED])]
        alerts = [e.payload["rule"] for e in container.event_store.read(types=[EventType.ALERT])]
        state = container.risk_manager.state
        bot.shutdown()
    losses = ("daily_loss_share", "hourly_loss_share", "max_drawdown")
    assert not [b for b in breaches if b.get("metric") in losses], breaches
    assert state is not TradingState.HALTED
    assert bot.metrics.errors >= 1  # counted toward the API-error guard
    assert "list accounts" in health.malformed
    assert banner is not None
    assert "malformed answers from list accounts" in banner.text
    assert "malformed_answers" in alerts
    assert float(bot.execution.equity()) > 1000  # never the zero equity an empty answer would have given


def test_an_empty_create_answer_leaves_the_order_unknown_until_found(market: RunningSandbox, tmp_path: Path) -> None:
    with ApplicationContainer(guarded_canary(market, tmp_path), clock=SandboxClock(market)) as container:
        bot = container.create_bot(Quiet())
        bot.bootstrap()
        inject(market, kind="garble", body="empty_object", method="POST", path_prefix=f"{API}/orders")
        request = OrderRequest("garbled-1", "BTC-USD", Side.BUY, OrderType.MARKET, Decimal("0.001"))
        with pytest.raises(MalformedAnswerError, match="create order"):
            container.order_executor.submit(request)
        stored = container.orders_store.get("garbled-1")
        assert stored is not None
        assert stored.status is OrderStatus.UNKNOWN
        assert bot.execution.resolve_unknown(container.clock.now(), force=True) == []
        found = container.orders_store.get("garbled-1")
        assert found is not None
        assert found.status is OrderStatus.FILLED
        assert bot.execution.portfolio.size("BTC-USD") == Decimal("0.001")
        bot.shutdown()


def test_an_empty_order_list_at_restart_marks_nothing(market: RunningSandbox, tmp_path: Path) -> None:
    config = guarded_canary(market, tmp_path)
    with ApplicationContainer(config, clock=SandboxClock(market)) as container:
        # A crash right after the send: the store holds the order PENDING, the exchange has filled it.
        request = OrderRequest("sent-1", "BTC-USD", Side.BUY, OrderType.MARKET, Decimal("0.001"))
        container.orders_store.add(request)
        container.coinbase_broker.place_order(request)
    with ApplicationContainer(config, clock=SandboxClock(market)) as container:
        inject(market, kind="garble", body="empty_object", path_prefix=f"{API}/orders/historical/batch")
        with pytest.raises(MalformedAnswerError, match="list orders"):
            container.create_bot(Quiet()).bootstrap()
        held = container.orders_store.get("sent-1")
        assert held is not None
        assert held.status is OrderStatus.PENDING
        admin_call(market, "DELETE", "faults")
        report = container.create_bot(Quiet()).bootstrap()
        assert report.recovered == ["sent-1"]
        recovered = container.orders_store.get("sent-1")
        assert recovered is not None
        assert recovered.status is OrderStatus.FILLED
    assert [o.client_order_id for o in sdk_client(market).list_orders().orders] == ["sent-1"]
