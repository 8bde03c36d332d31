"""A CFM perpetual-style future (BIP) traded by the canary bot and by a paper session against the sandbox:
its funding accrues hourly and settles at noon UTC into the CFM balance, where the bot's cash (and so its
PnL) reads it, and the paper venue charges it by the same rule (gpttrader.domain.funding)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.config import load_config
from gpttrader.config.guards import Guards
from gpttrader.engine.bot import TradingBot
from gpttrader.sandbox import RunningSandbox
from tests.integration.engine.sessions import paper_config, sandbox_env
from tests.integration.engine.test_futures_bot import BuyOnBars
from tests.integration.sandbox.conftest import SandboxFactory

BIP = "BIP-20DEC30-CDE"
OPENING = datetime(2026, 11, 24, 11, 40, tzinfo=UTC)  # twenty minutes before the noon settlement


def run_until(bot: TradingBot, sandbox: RunningSandbox, moment: datetime) -> None:
    """Run the bot's cycles until the sandbox's virtual clock reaches `moment` (a cycle takes up to its
    interval of virtual time), within a bound on the cycles."""
    for _ in range(120):
        if sandbox.exchange.clock.wall.utc() >= moment:
            return
        bot.run(max_cycles=bot.metrics.cycles + 2)  # counted over the whole run; waits between its two
    raise AssertionError(f"the sandbox's clock did not reach {moment} in 120 cycles")


def test_a_canary_holding_a_perpetual_style_future_pays_its_funding_at_settlement(
    start_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = start_sandbox(virtual_start=OPENING.timestamp(), speed=1.0)
    settings = load_config(
        "canary",
        overrides={
            "data_dir": tmp_path,
            "symbols": [BIP],
            "trading_window": None,
            "risk": {
                "limits_file": None,
                "max_notional_per_position": None,
                "max_position_size": {BIP: "2"},
                "max_position_fraction": 1,
                "max_exposure_fraction": 1,
            },
            "sizing": {"method": "fixed_fraction", "fraction": 1},
            "guards": {name: {"enabled": False} for name in Guards.model_fields},
            "coinbase": {"private_requests_per_second": 1000, "public_requests_per_second": 1000, "websocket": False},
        },
        env=sandbox_env(sandbox),
    )
    with ApplicationContainer(settings, clock=SandboxClock(sandbox)) as container:
        product = container.broker.product(BIP)
        assert product.perpetual_style  # the adapter reads a perpetual-style future off its listing
        bot = container.create_bot(BuyOnBars(on=(1,), since=OPENING))
        assert bot.bootstrap().ok
        bot.run(max_cycles=2)
        assert bot.execution.portfolio.size(BIP) == Decimal(2)
        before = container.broker.cash(derivatives=True)["USD"]
        run_until(bot, sandbox, OPENING.replace(minute=59))  # the 12:00 hour is not charged yet
        assert container.broker.cash(derivatives=True)["USD"] == before
        run_until(bot, sandbox, OPENING.replace(hour=12, minute=3))  # charged, and at noon settled
        after = container.broker.cash(derivatives=True)["USD"]
        (position,) = container.broker.positions()
        notional = position.mark_price * position.size * product.multiplier
        assert Decimal(0) < before - after < notional * Decimal("0.0002")
        assert bot.execution.portfolio.cash == after  # the bot's cash, and so its PnL, carries the funding
        assert bot.reconcile().ok
        bot.shutdown()


def test_a_paper_session_holding_a_perpetual_style_future_pays_its_funding_at_settlement(
    start_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = start_sandbox(virtual_start=OPENING.timestamp(), speed=1.0)
    settings = paper_config(
        sandbox,
        tmp_path,
        symbols=[BIP],
        risk={"limits_file": None, "max_notional_per_position": None, "max_position_size": {BIP: "2"}},
        sizing={"method": "fixed_fraction", "fraction": 1},
        guards={name: {"enabled": False} for name in Guards.model_fields},
    )
    with ApplicationContainer(settings, clock=SandboxClock(sandbox)) as container:
        assert container.broker.product(BIP).perpetual_style
        bot = container.create_bot(BuyOnBars(on=(1,), since=OPENING))
        assert bot.bootstrap().ok
        run_until(bot, sandbox, OPENING + timedelta(minutes=2))
        assert bot.execution.portfolio.size(BIP) > 0
        before = container.broker.cash(derivatives=True)["USD"]
        run_until(bot, sandbox, OPENING.replace(minute=59))
        assert container.broker.cash(derivatives=True)["USD"] == before
        run_until(bot, sandbox, OPENING.replace(hour=12, minute=3))
        after = container.broker.cash(derivatives=True)["USD"]
        assert Decimal(0) < before - after
        assert bot.execution.portfolio.cash == after
        bot.shutdown()
