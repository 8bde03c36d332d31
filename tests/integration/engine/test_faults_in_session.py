"""Faults from the sandbox during a canary session: lost answers, 429s, latency and errors leave the bot
running with nothing lost or doubled; an exchange that keeps failing trips the error-rate guard."""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.config.guards import Guards
from gpttrader.domain import Side
from gpttrader.domain.events import EventType
from gpttrader.risk import TradingState
from gpttrader.sandbox import RunningSandbox
from gpttrader.strategy import Bar, OrderIntent
from tests.integration.engine.sessions import guarded_canary
from tests.integration.sandbox.conftest import SandboxFactory, admin_call, inject

START = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
API = "/api/v3/brokerage"


@dataclass
class _Flip:
    side: Side = Side.SELL


@dataclass(frozen=True)
class EveryBar:
    name: str = "every_bar"
    warmup: int = 1

    def new_state(self) -> _Flip:
        return _Flip()

    def on_bar(self, bar: Bar, state: _Flip) -> tuple[OrderIntent, ...]:
        state.side = Side.BUY if state.side is Side.SELL else Side.SELL
        return (OrderIntent(bar.product_id, state.side),)


@pytest.fixture
def market(start_sandbox: SandboxFactory) -> RunningSandbox:
    return start_sandbox(virtual_start=START.timestamp(), speed=1.0)


def test_the_session_rides_out_faults_and_loses_nothing(market: RunningSandbox, tmp_path: Path) -> None:
    quiet = {name: {"enabled": False} for name in Guards.model_fields}
    with ApplicationContainer(guarded_canary(market, tmp_path, guards=quiet), clock=SandboxClock(market)) as container:
        bot = container.create_bot(EveryBar())
        bot.bootstrap()
        bot.run(max_cycles=3)
        inject(market, kind="error_after", status=502, count=3, method="POST", path_prefix=f"{API}/orders")
        inject(market, kind="rate_limit", count=3, retry_after=0.2, path_prefix=f"{API}/accounts")
        inject(market, kind="latency", latency_ms=200, count=3, path_prefix=f"{API}/market")
        inject(market, kind="http_error", status=503, count=2, path_prefix=f"{API}/orders/historical")
        bot.run(max_cycles=14)
        summary = bot.shutdown()
        assert summary.cycles == 14
        assert container.risk_manager.state is TradingState.ACTIVE
        exchange, store = container.broker, container.orders_store
        theirs = exchange.list_orders("BTC-USD")
        assert len(theirs) >= 8
        assert max(Counter(o.client_order_id for o in theirs).values()) == 1  # a lost answer never resends
        assert {f.trade_id for f in store.fills()} == {f.trade_id for f in exchange.fills(product_id="BTC-USD")}
        bought = sum((f.size if f.side is Side.BUY else -f.size for f in store.fills()), Decimal(0))
        assert bot.execution.portfolio.size("BTC-USD") == bought
        assert bot.telemetry.retries() >= 3
        rules = {e.payload["rule"] for e in container.event_store.read(types=[EventType.ALERT])}
        assert "rate_limit_high" in rules  # three 429s within the minute


def test_an_exchange_that_keeps_failing_trips_the_error_rate_guard(market: RunningSandbox, tmp_path: Path) -> None:
    config = guarded_canary(market, tmp_path, risk={"error_rate_window": 4})
    with ApplicationContainer(config, clock=SandboxClock(market)) as container:
        bot = container.create_bot(EveryBar())
        bot.bootstrap()
        bot.run(max_cycles=2)
        inject(market, kind="http_error", status=503, count=1000, path_prefix=API)
        bot.run(max_cycles=8)
        assert bot.metrics.errors >= 4
        breached = {e.payload["guard"] for e in container.event_store.read(types=[EventType.RISK_GUARD_BREACHED])}
        assert "error_rate" in breached
        assert container.risk_manager.state is TradingState.HALTED
        assert bot.state is not None
        shown = bot.state.banner
        assert shown is not None
        assert shown.text.startswith("degraded")  # errors in the window outrank the halted execution
        admin_call(market, "DELETE", "faults")
        bot.run(max_cycles=12)  # the exchange is back; the bot is still halted, as only an operator may undo
        assert container.risk_manager.state is TradingState.HALTED
        bot.shutdown()
