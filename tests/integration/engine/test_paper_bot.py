"""The paper bot on the sandbox's market data (public endpoints, no key), with the sandbox's virtual clock
moved in step with the bot's: a session, its books kept, and a restart that continues from them."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.domain import OrderStatus
from gpttrader.domain.events import EventType
from gpttrader.sandbox import RunningSandbox
from tests.integration.engine.sessions import paper_config
from tests.integration.sandbox.conftest import SandboxFactory

START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC).timestamp()


@pytest.fixture
def market(start_sandbox: SandboxFactory) -> RunningSandbox:
    return start_sandbox(virtual_start=START, speed=1.0)


def test_a_paper_session_trades_keeps_its_books_and_restarts(market: RunningSandbox, tmp_path: Path) -> None:
    config = paper_config(market, tmp_path)
    assert config.credentials is None  # paper needs no key: public market data, simulated fills
    with ApplicationContainer(config, clock=SandboxClock(market)) as container:
        bot = container.create_bot()
        assert bot.bootstrap().ok
        bot.run(max_cycles=120)
        first = bot.shutdown()
        assert first.fills > 0
        fills = container.orders_store.fills()
        assert {f.trade_id.split("-")[0] for f in fills} == {"paper"}
        venue_fills = container.broker.fills()
        assert sorted(f.trade_id for f in venue_fills) == sorted(f.trade_id for f in fills)
        positions = bot.execution.positions()
    # The bot and the exchange restart; the paper account is the one the first session left.
    with ApplicationContainer(config, clock=SandboxClock(market)) as container:
        bot = container.create_bot()
        report = bot.bootstrap()
        assert report.ok, report.mismatches
        assert {pid: p.size for pid, p in bot.execution.positions().items()} == {
            pid: p.size for pid, p in positions.items()
        }
        bot.run(max_cycles=30)
        assert bot.shutdown().cycles == 30
        assert all(o.status is not OrderStatus.PENDING for o in container.orders_store.all_orders())


def test_after_a_paper_session_every_enabled_guard_has_readings(market: RunningSandbox, tmp_path: Path) -> None:
    """Each guard the profile enables watches something: equity and losses, errors, mark ages, volatility,
    concentration from the marks' returns, spread and depth from the book. One that cannot apply to what the
    bot trades (a liquidation buffer with no derivatives) is switched off for the run, recorded, not left
    enabled and silent."""
    config = paper_config(market, tmp_path, risk={"error_rate_window": 3})
    with ApplicationContainer(config, clock=SandboxClock(market)) as container:
        bot = container.create_bot()
        assert bot.bootstrap().ok
        bot.run(max_cycles=3)  # the error-rate window's length: it has a rate from the third
        bot.shutdown()
        readings = bot.risk.readings()
        silent = sorted({r.guard for r in readings if r.value is None})
        assert silent == [], silent
        enabled = {name for name, guard in config.guards if guard.enabled}
        watched = {r.guard for r in readings}
        inactive = [e.payload for e in container.event_store.read(types=[EventType.RISK_GUARD_INACTIVE])]
        assert enabled - watched == {"liquidation_buffer"}
        assert [i["guard"] for i in inactive] == ["liquidation_buffer"]
        spreads = {r.scope: r.value for r in readings if r.guard == "spread"}
        assert set(spreads) == set(config.symbols)
        assert all(v is not None and 0 < v < 50 for v in spreads.values())
