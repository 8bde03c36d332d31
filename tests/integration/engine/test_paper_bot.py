"""The paper bot on the sandbox's market data (public endpoints, no key), with the sandbox's virtual clock
moved in step with the bot's: a session, its books kept, and a restart that continues from them."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.config import BotConfig, load_config
from gpttrader.domain import OrderStatus
from gpttrader.sandbox import RunningSandbox
from tests.integration.engine.conftest import sandbox_env
from tests.integration.sandbox.conftest import SandboxFactory

START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC).timestamp()


@pytest.fixture
def market(start_sandbox: SandboxFactory) -> RunningSandbox:
    return start_sandbox(virtual_start=START, speed=1.0)


def paper_config(sandbox: RunningSandbox, data: Path) -> BotConfig:
    env = sandbox_env(sandbox, key=False)
    return load_config(
        "paper",
        overrides={
            "data_dir": data,
            "symbols": ["BTC-USD", "ETH-USD", "SOL-USD"],
            "strategy": {"name": "ma_cross", "params": {"fast": 3, "slow": 8}},
            "sizing": {"fraction": "0.2"},
            "coinbase": {"public_requests_per_second": 1000, "websocket": False},  # the sandbox enforces no limit
        },
        env=env,
    )


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
