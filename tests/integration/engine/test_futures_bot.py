"""The canary bot trading a CFM future on the sandbox: positions in contracts reconciled with the
exchange's, the margin check fed by the CFM balance summary, the liquidation-buffer guard fed each cycle."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.config import load_config
from gpttrader.config.guards import Guards
from gpttrader.domain import Side
from gpttrader.domain.events import EventType
from gpttrader.reports.session import session_report
from gpttrader.risk import TradingState
from gpttrader.sandbox import RunningSandbox
from gpttrader.strategy import Bar, OrderIntent
from tests.integration.engine.sessions import FUTURE, START, futures_config, sandbox_env
from tests.integration.sandbox.conftest import SandboxFactory


@dataclass
class _Count:
    bars: int = 0


@dataclass(frozen=True)
class BuyOnBars:
    """Buys the future on the bars it is told to, counted from the last one before the session (the first
    the bot decides on; the ones before it only warm the strategy up)."""

    on: tuple[int, ...]
    since: datetime = START
    name: str = "buy_on_bars"
    warmup: int = 1

    def new_state(self) -> _Count:
        return _Count()

    def on_bar(self, bar: Bar, state: _Count) -> tuple[OrderIntent, ...]:
        if bar.time < self.since - timedelta(minutes=1):
            return ()
        state.bars += 1
        return (OrderIntent(bar.product_id, Side.BUY),) if state.bars in self.on else ()


@pytest.fixture
def market(start_sandbox: SandboxFactory) -> RunningSandbox:
    return start_sandbox(virtual_start=START.timestamp(), speed=1.0)


def test_a_future_is_traded_and_reconciled_in_contracts(market: RunningSandbox, tmp_path: Path) -> None:
    with ApplicationContainer(futures_config(market, tmp_path, "2"), clock=SandboxClock(market)) as container:
        bot = container.create_bot(BuyOnBars(on=(3,)))
        assert bot.bootstrap().ok
        bot.run(max_cycles=4)
        (theirs,) = container.broker.positions()
        assert (theirs.product_id, theirs.size) == (FUTURE, Decimal(2))
        assert bot.execution.portfolio.size(FUTURE) == Decimal(2)
        assert bot.reconcile().ok  # contracts against contracts
        bot.shutdown()


def test_the_margin_check_reads_the_cfm_balance_summary(market: RunningSandbox, tmp_path: Path) -> None:
    # 40 contracts of 0.01 BTC near $95,000 is $38,000 of notional: more than the CFM account's $10,000 of
    # available margin at the canary's leverage of 1.
    with ApplicationContainer(futures_config(market, tmp_path, "40"), clock=SandboxClock(market)) as container:
        bot = container.create_bot(BuyOnBars(on=(3,)))
        bot.bootstrap()
        bot.run(max_cycles=4)
        rejected = [e.payload for e in container.event_store.read(types=[EventType.RISK_ORDER_REJECTED])]
        assert [r["reason"] for r in rejected] == ["insufficient_margin"]
        assert container.broker.positions() == []
        bot.shutdown()


def test_the_liquidation_buffer_guard_reads_the_exchange(market: RunningSandbox, tmp_path: Path) -> None:
    # A buffer limit no account meets: the guard must trip on the exchange's figure once a position exists.
    guarded = futures_config(market, tmp_path, "2", liquidation_buffer={"enabled": True, "limit": "0.999"})
    with ApplicationContainer(guarded, clock=SandboxClock(market)) as container:
        bot = container.create_bot(BuyOnBars(on=(3,)))
        bot.bootstrap()
        bot.run(max_cycles=4)
        breached = [e.payload for e in container.event_store.read(types=[EventType.RISK_GUARD_BREACHED])]
        assert breached
        assert breached[0]["guard"] == "liquidation_buffer"
        assert Decimal(breached[0]["value"]) < Decimal("0.999")
        assert container.risk_manager.state is TradingState.REDUCE_ONLY
        bot.shutdown()


def test_a_live_perpetual_counts_its_collateral_where_funding_is_paid(
    start_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    opening = START + timedelta(minutes=30)
    sandbox = start_sandbox(virtual_start=opening.timestamp(), speed=1.0, derivatives_enabled=True)
    perp = "BTC-PERP-INTX"
    settings = load_config(
        "canary",
        overrides={
            "data_dir": tmp_path,
            "symbols": [perp],
            "risk": {"max_position_size": {perp: "0.01"}, "max_position_fraction": 1, "max_exposure_fraction": 1},
            "sizing": {"method": "fixed_fraction", "fraction": 1},
            "guards": {name: {"enabled": False} for name in Guards.model_fields},
            "coinbase": {"private_requests_per_second": 1000, "public_requests_per_second": 1000, "websocket": False},
        },
        env=sandbox_env(sandbox, COINBASE_ENABLE_DERIVATIVES="1"),
    )
    with ApplicationContainer(settings, clock=SandboxClock(sandbox)) as container:
        bot = container.create_bot(BuyOnBars(on=(1,), since=opening))
        bot.bootstrap()
        bot.run(max_cycles=2)
        held = bot.execution.portfolio.size(perp)
        assert held > 0  # the canary's $500 cap sizes it
        before = container.broker.cash(derivatives=True)["USDC"]
        bot.run(max_cycles=70)  # over an hour: the exchange charges funding to the INTX collateral
        after = container.broker.cash(derivatives=True)["USDC"]
        (position,) = container.broker.positions()
        assert position.size == held
        assert Decimal(0) < before - after < position.mark_price * held * Decimal("0.0002")
        assert bot.execution.portfolio.cash == after  # the bot's cash is where the funding went
        assert bot.reconcile().ok
        bot.shutdown()


@dataclass(frozen=True)
class InAndOut:
    """Buys the future on the session's second bar and sells it on its fifth."""

    name: str = "in_and_out"
    warmup: int = 1

    def new_state(self) -> _Count:
        return _Count()

    def on_bar(self, bar: Bar, state: _Count) -> tuple[OrderIntent, ...]:
        if bar.time < START - timedelta(minutes=1):
            return ()
        state.bars += 1
        side = {2: Side.BUY, 5: Side.SELL}.get(state.bars)
        return () if side is None else (OrderIntent(bar.product_id, side),)


def test_the_session_report_values_a_futures_round_trip_in_contracts(market: RunningSandbox, tmp_path: Path) -> None:
    """The report's round trip of a future is its price move times the contracts times the contract size,
    less both fees, as the bot booked it (not a spot product's PnL, a contract being a fraction of a coin)."""
    with ApplicationContainer(futures_config(market, tmp_path, "2"), clock=SandboxClock(market)) as container:
        bot = container.create_bot(InAndOut())
        assert bot.bootstrap().ok
        bot.run(max_cycles=6)
        bot.shutdown()
        product = container.broker.product(FUTURE)
        fills = container.orders_store.fills()
        state_dir = container.config.state_dir
    buy, sell = fills
    assert product.multiplier != 1
    assert buy.price != sell.price  # a move: what a wrong contract size would misvalue
    trade = session_report(state_dir).trades.iloc[0]
    expected = (sell.price - buy.price) * buy.size * product.multiplier - buy.fee - sell.fee
    assert Decimal(str(trade["pnl"])) == expected
