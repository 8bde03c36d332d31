"""The canary's order-rate limits against the sandbox (issue 14): the canary bot, through the Coinbase
adapter, refuses an order within 30 s of the last (`min_interval`) and the third within a minute
(`rate_per_minute`), with the reason codes in its event store; an order that only shrinks the position
passes, though it counts; and the count is read from the orders store, so a restart does not reset it.

The bot is handed its decisions at chosen moments of the sandbox's virtual clock (`act`), a few seconds
clear of every limit's edge."""

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.config import BotConfig, load_config
from gpttrader.domain import OrderType, Side
from gpttrader.domain.events import EventType
from gpttrader.engine.bot import TradingBot
from gpttrader.sandbox import RunningSandbox
from gpttrader.strategy import Bar, OrderIntent
from tests.integration.engine.sessions import PID, START, config, mid, sandbox_env
from tests.integration.engine.strategies import Quiet
from tests.integration.sandbox.conftest import SandboxFactory

CANARY_LIMITS = {"per_minute": 2, "per_hour": 20, "per_day": 50, "min_interval_seconds": 30}
T0 = START + timedelta(minutes=1)


@pytest.fixture
def market(start_sandbox: SandboxFactory) -> RunningSandbox:
    return start_sandbox(virtual_start=START.timestamp(), speed=1.0)


def canary_settings(sandbox: RunningSandbox, data: Path) -> BotConfig:
    """The order-path tests' canary (guards off, roomy caps) with the canary's order limits back on."""
    settings = config(sandbox, data, order_limits=CANARY_LIMITS)
    shipped = load_config("canary", env=sandbox_env(sandbox)).order_limits
    assert settings.order_limits == shipped  # the canary's own limits, as the profile ships them
    return settings


def rejections(container: ApplicationContainer) -> list[dict[str, Any]]:
    return [e.payload for e in container.event_store.read(types=[EventType.RISK_ORDER_REJECTED])]


def act(
    market: RunningSandbox, bot: TradingBot, container: ApplicationContainer, seconds: int, side: Side, fraction: float
) -> str:
    """The bot acts, `seconds` after T0, on a market order of its strategy: 'sent' or the refusal's reason."""
    at = T0 + timedelta(seconds=seconds)
    bot.clock.sleep_until(at, threading.Event())
    bot.marks.update(PID, mid(market), at)
    before = len(rejections(container))
    bar = Bar(PID, at - timedelta(minutes=1), 1.0, 1.0, 1.0, 1.0, 1.0)
    bot.execution.act(bar, (OrderIntent(PID, side, OrderType.MARKET, fraction),), at)
    bot.execution.refresh()
    refused = rejections(container)[before:]
    if not refused:
        return "sent"
    [event] = refused
    return str(event["reason"])


def test_the_canary_refuses_an_order_within_30_s_and_the_third_in_a_minute_even_after_a_restart(
    market: RunningSandbox, tmp_path: Path
) -> None:
    settings = canary_settings(market, tmp_path)
    with ApplicationContainer(settings, clock=SandboxClock(market)) as container:
        bot = container.create_bot(Quiet())
        bot.bootstrap()
        assert act(market, bot, container, 0, Side.BUY, 1.0) == "sent"
        held = bot.execution.portfolio.size(PID)
        assert held > 0
        # Today (order_limits read by no code) every one of these is sent.
        assert act(market, bot, container, 15, Side.BUY, 1.0) == "min_interval"  # 15 s after the last
        [refusal] = rejections(container)
        assert refusal["check"] == "order_interval"
        assert "at least 30 s apart" in refusal["message"]
        # A sell of part of what is held only shrinks the position: it passes 20 s after the last order,
        # and it counts (it was sent).
        assert act(market, bot, container, 20, Side.SELL, 0.5) == "sent"
        assert 0 < bot.execution.portfolio.size(PID) < held
        # 35 s after the last: far enough apart, but the third order in the minute.
        assert act(market, bot, container, 55, Side.BUY, 1.0) == "rate_per_minute"
        refusal = rejections(container)[-1]
        assert refusal["check"] == "order_rate"
        assert "2 orders sent in the last minute (limit 2 per minute" in refusal["message"]
        bot.shutdown()
    sent = [o.client_order_id for o in container.orders_store.all_orders()]

    # A new container on the same data dir: the count comes back from the orders store.
    with ApplicationContainer(settings, clock=SandboxClock(market)) as container:
        bot = container.create_bot(Quiet())
        bot.bootstrap()
        assert act(market, bot, container, 58, Side.BUY, 1.0) == "rate_per_minute"  # today, after a restart: sent
        assert [o.client_order_id for o in container.orders_store.all_orders()] == sent
        # Once the first order is more than a minute old (and the sell 45 s), the next one goes.
        assert act(market, bot, container, 65, Side.BUY, 1.0) == "sent"
        assert len(container.orders_store.all_orders()) == len(sent) + 1
        bot.shutdown()
