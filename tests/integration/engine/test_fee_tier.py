"""The live bot prices fees at its account's tier: the canary reads the sandbox's transaction summary through
the Coinbase adapter at its first cycle, budgets buys at that taker rate, and reads the tier again hourly on
its clock (a tier moves with the 30-day volume), recording each change. And its start refuses a symbol the
exchange does not list, naming the nearest listed ids."""

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.brokers.errors import ExchangeUnavailableError
from gpttrader.brokers.simulated import FeeSchedule
from gpttrader.config import BotConfig, load_config
from gpttrader.config.guards import Guards
from gpttrader.domain.events import EventType
from gpttrader.engine.bot import TradingBot
from gpttrader.engine.listing import UnlistedSymbolError
from gpttrader.reports.session import session_report
from gpttrader.sandbox import RunningSandbox
from tests.integration.engine.conftest import sandbox_env
from tests.integration.engine.strategies import Quiet
from tests.integration.sandbox.conftest import SandboxFactory

START = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
TIER = FeeSchedule(Decimal("0.0025"), Decimal("0.004"), "Advanced 3")
BETTER = FeeSchedule(Decimal("0.0008"), Decimal("0.0018"), "Advanced 6")


def canary(sandbox: RunningSandbox, data: Path, **overrides: Any) -> BotConfig:
    return load_config(
        "canary",
        overrides={
            "data_dir": data,
            "coinbase": {"private_requests_per_second": 1000, "public_requests_per_second": 1000, "websocket": False},
            "guards": {name: {"enabled": False} for name in Guards.model_fields},
            **overrides,
        },
        env=sandbox_env(sandbox),
    )


def at(bot: TradingBot, moment: datetime) -> None:
    """Move the bot's (and the sandbox's) clock to `moment`, then run a cycle there."""
    bot.clock.sleep_until(moment, threading.Event())
    bot.cycle()


def test_the_canary_uses_the_accounts_fee_tier_and_reads_it_again_hourly(
    start_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    market = start_sandbox(virtual_start=START.timestamp(), speed=1.0, fees=TIER)
    with ApplicationContainer(canary(market, tmp_path), clock=SandboxClock(market)) as container:
        bot = container.create_bot(Quiet())
        assert bot.fee_rate == Decimal("0.006")  # the profile's, until the tier is read at the start
        bot.bootstrap()  # read at the start, before the edge seed prices its trips with it
        first = START + timedelta(minutes=1, seconds=1)
        at(bot, first)
        assert bot.execution.fee_rate == Decimal("0.004")  # what sizing budgets a buy's fee at
        assert bot.fee_rate == Decimal("0.004")
        recorded = [e.payload for e in container.event_store.read(types=[EventType.ACCOUNT_FEE_TIER])]
        assert recorded == [{"tier": "Advanced 3", "maker": "0.0025", "taker": "0.004", "previous": None}]

        with market.exchange.lock:  # the account's volume moved it up a tier
            market.exchange.fees = BETTER
        at(bot, first + timedelta(minutes=30))
        assert bot.execution.fee_rate == Decimal("0.004")  # not read again within the hour
        at(bot, START + timedelta(minutes=59))
        assert bot.execution.fee_rate == Decimal("0.004")
        at(bot, first + timedelta(hours=1))
        assert bot.execution.fee_rate == Decimal("0.0018")
        recorded = [e.payload for e in container.event_store.read(types=[EventType.ACCOUNT_FEE_TIER])]
        assert len(recorded) == 2
        assert recorded[1] == {
            "tier": "Advanced 6",
            "maker": "0.0008",
            "taker": "0.0018",
            "previous": {"tier": "Advanced 3", "maker": "0.0025", "taker": "0.004"},
        }
        at(bot, first + timedelta(hours=2))  # read again, unchanged: no new event
        assert len(list(container.event_store.read(types=[EventType.ACCOUNT_FEE_TIER]))) == 2
        bot.shutdown()
        state_dir = container.config.state_dir
    shown = session_report(state_dir).summary()["value"]
    assert shown["fee tier"] == "Advanced 6 (maker 0.0008, taker 0.0018)"
    assert shown["fee tier changes"] == 1


def test_a_failed_hourly_read_keeps_the_last_tier(
    start_sandbox: SandboxFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    market = start_sandbox(virtual_start=START.timestamp(), speed=1.0, fees=TIER)
    with ApplicationContainer(canary(market, tmp_path), clock=SandboxClock(market)) as container:
        bot = container.create_bot(Quiet())
        bot.bootstrap()
        first = START + timedelta(minutes=1, seconds=1)
        at(bot, first)

        def unavailable() -> None:
            raise ExchangeUnavailableError("transaction summary: 503")

        monkeypatch.setattr(container.coinbase_broker, "fee_rates", unavailable)
        errors = bot.metrics.errors
        at(bot, first + timedelta(hours=1))
        assert bot.execution.fee_rate == Decimal("0.004")
        assert bot.metrics.errors == errors  # the cycle went on: its orders are priced at the last tier
        bot.shutdown()


def test_the_canary_start_refuses_a_symbol_the_exchange_does_not_list(
    start_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    market = start_sandbox(virtual_start=START.timestamp(), speed=1.0)
    config = canary(market, tmp_path, symbols=["btc-usd", "XBT/USD"], risk={"limits_file": None})
    assert config.symbols == ("BTC-USD", "XBT-USD")
    with ApplicationContainer(config, clock=SandboxClock(market)) as container:
        bot = container.create_bot(Quiet())
        with pytest.raises(UnlistedSymbolError) as refused:
            bot.bootstrap()
    assert str(refused.value).startswith("symbols: XBT-USD is not listed by the exchange; nearest listed: BTC-USD")
