"""Paper trading a perpetual (PERPS_PAPER=1 with derivatives on): the sandbox's market data, a simulated
margin account in USDC that pays funding every hour, positions reconciled in contracts, kept on restart."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.config import BotConfig, load_config
from gpttrader.config.guards import Guards
from gpttrader.domain import Side
from gpttrader.sandbox import RunningSandbox
from gpttrader.strategy import Bar, OrderIntent
from tests.integration.engine.conftest import sandbox_env
from tests.integration.sandbox.conftest import SandboxFactory

START = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
PERP = "BTC-PERP-INTX"


@dataclass
class _Done:
    bought: bool = False


@dataclass(frozen=True)
class BuyAndHold:
    name: str = "buy_and_hold"
    warmup: int = 1

    def new_state(self) -> _Done:
        return _Done()

    def on_bar(self, bar: Bar, state: _Done) -> tuple[OrderIntent, ...]:
        if state.bought or bar.time < START:
            return ()
        state.bought = True
        return (OrderIntent(bar.product_id, Side.BUY),)


def config(sandbox: RunningSandbox, data: Path) -> BotConfig:
    return load_config(
        None,
        overrides={
            "data_dir": data,
            "symbols": [PERP],
            "risk": {"max_position_size": {PERP: "0.01"}, "max_position_fraction": 1, "max_exposure_fraction": 1},
            "sizing": {"method": "fixed_fraction", "fraction": 1},
            "guards": {name: {"enabled": False} for name in Guards.model_fields},
            "coinbase": {"public_requests_per_second": 1000, "websocket": False},
        },
        env=sandbox_env(sandbox, key=False, PERPS_PAPER="1", COINBASE_ENABLE_DERIVATIVES="1"),
    )


def test_a_paper_perpetual_pays_funding_and_survives_a_restart(start_sandbox: SandboxFactory, tmp_path: Path) -> None:
    sandbox = start_sandbox(virtual_start=START.timestamp(), speed=1.0, derivatives_enabled=True)
    settings = config(sandbox, tmp_path)
    assert (settings.profile, settings.derivatives_enabled) == ("paper", True)
    with ApplicationContainer(settings, clock=SandboxClock(sandbox)) as container:
        bot = container.create_bot(BuyAndHold())
        assert bot.bootstrap().ok
        bot.run(max_cycles=45)  # from 14:30 past 15:00: one funding hour
        (position,) = container.broker.positions()
        assert (position.product_id, position.size) == (PERP, Decimal("0.01"))
        assert bot.execution.portfolio.size(PERP) == Decimal("0.01")
        [fill] = container.orders_store.fills()
        usdc = next(b.total for b in container.broker.balances() if b.currency == "USDC")
        funding = Decimal(100_000) - fill.fee - usdc
        assert fill.price * Decimal("0.01") * Decimal("0.0001") * Decimal("0.95") < funding  # ~1e-4 of notional
        assert funding < fill.price * Decimal("0.01") * Decimal("0.0001") * Decimal("1.05")
        summary = container.broker.margin_summary()
        assert summary is not None
        assert summary.initial_margin > 0
        assert bot.summary().equity == f"{bot.execution.equity():.2f}"
        bot.shutdown()
    with ApplicationContainer(settings, clock=SandboxClock(sandbox)) as container:
        bot = container.create_bot(BuyAndHold())
        report = bot.bootstrap()
        assert report.ok, report.mismatches
        assert [(p.product_id, p.size) for p in container.broker.positions()] == [(PERP, Decimal("0.01"))]
        bot.shutdown()
    assert sandbox.wall.utc() > START + timedelta(minutes=30)
