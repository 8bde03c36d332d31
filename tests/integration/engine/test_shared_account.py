"""Two bots, or a bot and a person, on one Coinbase account, against the sandbox through the Coinbase adapter.

Coinbase lists every order of the account to every key of it and de-duplicates orders by client order id
across the account. Each bot's ids carry its prefix, so it cancels only its own unknown orders (leaving the
other's working, its stop-loss included), and two bots deciding on the same bar never get each other's
order. The account's spot holdings must be what the books explain, in either direction.
"""

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.config import BotConfig, load_config
from gpttrader.config.guards import Guards
from gpttrader.domain import OrderRequest, OrderType, Side
from gpttrader.domain.events import EventType
from gpttrader.risk import TradingState
from gpttrader.sandbox import RunningSandbox
from tests.integration.engine.sessions import CAP, canary, cli, kill_env, sandbox_env
from tests.integration.engine.strategies import BuyEveryBar, Quiet
from tests.integration.sandbox.conftest import sdk_client


def prod(sandbox: RunningSandbox, data: Path, **overrides: Any) -> BotConfig:
    """The prod profile on the canary's account: its strategy and symbols, its own store and prefix."""
    quiet = {name: {"enabled": False} for name in Guards.model_fields}
    return load_config(
        "prod",
        overrides={
            "data_dir": data,
            "symbols": ["BTC-USD"],
            "coinbase": {"private_requests_per_second": 1000, "public_requests_per_second": 1000, "websocket": False},
            "guards": quiet,
            "risk": {"max_position_size": {"BTC-USD": str(CAP)}},
            **overrides,
        },
        env=sandbox_env(sandbox),
    )


def btc_price(sandbox: RunningSandbox) -> Decimal:
    return Decimal(sdk_client(sandbox).get_product("BTC-USD").price)


def open_orders(sandbox: RunningSandbox) -> set[str]:
    return {o.client_order_id for o in sdk_client(sandbox).list_orders(order_status=["OPEN"]).orders}


def canary_working_orders(sandbox: RunningSandbox, data: Path) -> list[str]:
    """The canary bot holding 0.002 BTC with a bracket (its stop-loss) and a resting buy; their ids."""
    price = btc_price(sandbox)
    with ApplicationContainer(canary(sandbox, data), clock=SandboxClock(sandbox)) as container:
        ids, executor = container.config.client_ids, container.order_executor
        executor.submit(OrderRequest(ids.manual("buy"), "BTC-USD", Side.BUY, OrderType.MARKET, Decimal("0.002")))
        bracket = OrderRequest(
            ids.exit(ids.manual("buy"), 0),
            "BTC-USD",
            Side.SELL,
            OrderType.BRACKET,
            Decimal("0.002"),
            (price * 2).quantize(Decimal("0.01")),
            (price / 2).quantize(Decimal("0.01")),
            reduce_only=True,
        )
        rest = OrderRequest(
            ids.manual("rest"), "BTC-USD", Side.BUY, OrderType.LIMIT, Decimal("0.001"), (price / 2).quantize(Decimal(1))
        )
        for request in (bracket, rest):
            executor.submit(request)
        return [bracket.client_order_id, rest.client_order_id]


def test_a_profile_leaves_another_profiles_orders_working(market: RunningSandbox, tmp_path: Path) -> None:
    theirs = canary_working_orders(market, tmp_path / "canary")
    assert set(theirs) <= open_orders(market)
    config = prod(market, tmp_path / "prod", execution={"reconcile_every_cycles": 1})
    with ApplicationContainer(config, clock=SandboxClock(market)) as container:
        bot = container.create_bot(Quiet())
        report = bot.bootstrap()  # a new store on an account with the canary's orders: not refused
        assert report.ok, report.mismatches
        assert (sorted(report.foreign), report.cancelled) == (sorted(theirs), [])
        # An order of prod's own that its store does not know (a store restored from an older backup).
        lost = config.client_ids.manual("lost")
        sdk_client(market).limit_order_gtc_buy(
            client_order_id=lost, product_id="BTC-USD", base_size="0.001", limit_price=str(int(btc_price(market) / 3))
        )
        bot.run(max_cycles=4)  # a reconciliation each cycle
        again = bot.reconcile()
        assert sorted(again.foreign) == sorted(theirs)
        assert [
            e.payload["client_order_id"]
            for e in container.event_store.read(types=[EventType.RECONCILE_UNKNOWN_CANCELLED])
        ] == [lost]
        recorded = [
            e.payload["client_order_id"] for e in container.event_store.read(types=[EventType.RECONCILE_FOREIGN_ORDER])
        ]
        assert sorted(recorded) == sorted(theirs)  # once per order, not once per reconciliation
        assert container.risk_manager.state is TradingState.ACTIVE
        assert bot.kill(operator="ops", reason="drill", flatten=False).complete  # nothing of prod's is left
        bot.shutdown()
    assert open_orders(market) == set(theirs)  # the stop-loss and the resting buy still work


def accept(sandbox: RunningSandbox, data: Path) -> str:
    done = cli(kill_env(sandbox, data), "books", "accept", "--profile", "canary", "--operator", "ops")
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def halt_reason(container: ApplicationContainer) -> str:
    changed = container.event_store.latest(EventType.RISK_STATE_CHANGED)
    assert changed is not None
    return str(changed["reason"])


def test_a_spot_holding_the_books_cannot_explain_halts_either_way(market: RunningSandbox, tmp_path: Path) -> None:
    person = sdk_client(market)
    with ApplicationContainer(canary(market, tmp_path), clock=SandboxClock(market)) as container:
        ids, risk = container.config.client_ids, container.risk_manager
        bot = container.create_bot(BuyEveryBar())
        assert bot.bootstrap().ok  # the account's 1 BTC is recorded as outside the bot's books
        container.order_executor.submit(
            OrderRequest(ids.manual("buy"), "BTC-USD", Side.BUY, OrderType.MARKET, Decimal("0.001"))
        )
        assert bot.reconcile().ok  # 1 outside + 0.001 from the bot's fills
        person.market_order_buy(client_order_id="app-buy", product_id="BTC-USD", base_size="0.001")
        more = bot.reconcile()
        assert more.mismatches == [
            "BTC-USD: the account holds 1.002 BTC, the books explain 1.001 (1 outside the bot's books + 0.001 from "
            "the bot's fills): more by 0.001"
        ]
        assert risk.state is TradingState.HALTED
        assert "gpttrader books accept --profile canary" in halt_reason(container)
        shown = accept(market, tmp_path)
        assert "BTC: the account holds 1.002, the bot's fills 0.001, outside the bot's books 1.001" in shown
        assert bot.reconcile().ok
        person.market_order_sell(client_order_id="app-sell", product_id="BTC-USD", base_size="0.0015")
        less = bot.reconcile()
        assert len(less.mismatches) == 1
        assert "the account holds 1.0005 BTC, the books explain 1.002" in less.mismatches[0]
        assert less.mismatches[0].endswith("less by 0.0015")
        assert risk.state is TradingState.HALTED
        accept(market, tmp_path)
        risk.set_state(TradingState.ACTIVE, operator="ops", reason="books accepted")
        sent = bot.metrics.orders
        bot.run(max_cycles=1)
        assert bot.metrics.orders > sent  # trading goes on
        assert bot.reconcile().ok  # its fills and the new baseline explain the account
        assert risk.reload_state() is TradingState.ACTIVE
        bot.shutdown()
        baselines = [e.payload for e in container.event_store.read(types=[EventType.RECONCILE_BASELINE])]
    assert [b["operator"] for b in baselines] == [None, "ops", "ops"]


def test_two_bots_deciding_on_the_same_bar_each_get_their_own_order(market: RunningSandbox, tmp_path: Path) -> None:
    same_sizing = {"method": "fixed_fraction", "fraction": "0.001"}
    configs = [canary(market, tmp_path / "canary"), prod(market, tmp_path / "prod", sizing=same_sizing)]
    with (
        ApplicationContainer(configs[0], clock=SandboxClock(market)) as first,
        ApplicationContainer(configs[1], clock=SandboxClock(market)) as second,
    ):
        bots = [c.create_bot(BuyEveryBar()) for c in (first, second)]
        for bot in bots:
            bot.bootstrap()
        for bot in bots:
            bot.cycle()  # both decide on the bar that closed last, with the same strategy
        sent = [[(o.client_order_id, o.order_id) for o in c.orders_store.all_orders()] for c in (first, second)]
        bought = [bot.execution.portfolio.size("BTC-USD") for bot in bots]
        for bot in bots:
            bot.shutdown()
    assert all(len(orders) == 1 for orders in sent), sent
    (first_id, first_order), (second_id, second_order) = sent[0][0], sent[1][0]
    assert first_id != second_id
    assert first_order != second_order  # not one order handed to both by Coinbase's de-duplication
    assert len(sdk_client(market).list_orders().orders) == 2
    assert sum(bought) == sum(Decimal(f.size) for f in sdk_client(market).get_fills(product_ids=["BTC-USD"]).fills)


@pytest.mark.parametrize("shared", [False, True])
def test_another_profiles_spot_trade_halts_an_unshared_account_and_is_flagged_on_a_shared_one(
    market: RunningSandbox, tmp_path: Path, shared: bool
) -> None:
    """The canary buys BTC on the account prod also trades. Prod cannot tell that buy from one of its own it
    missed: by default it halts; told the account is shared, its own coins being all there, it flags the
    move, takes it as its new baseline and trades on."""
    settings = prod(market, tmp_path / "prod", execution={"shared_account": shared})
    with (
        ApplicationContainer(settings, clock=SandboxClock(market)) as mine,
        ApplicationContainer(canary(market, tmp_path / "canary"), clock=SandboxClock(market)) as theirs,
    ):
        bot = mine.create_bot(Quiet())
        assert bot.bootstrap().ok
        other = theirs.create_bot(BuyEveryBar())
        other.bootstrap()
        other.cycle()
        assert other.execution.portfolio.size("BTC-USD") > 0
        report = bot.reconcile()
        now = mine.clock.now()
        rules = {a.rule for a in bot.alerts.evaluate(bot.health(now), now)}
        again = bot.reconcile()  # the move was taken as the baseline: flagged once
        other.shutdown()
        bot.shutdown()
        state = mine.risk_manager.state
    if shared:
        assert report.ok, report.mismatches
        assert len(report.moved) == 1
        assert report.moved[0].startswith("BTC-USD: the account holds")
        assert "holdings_moved" in rules
        assert again.moved == []
        assert state is TradingState.ACTIVE
    else:
        assert len(report.mismatches) == 1
        assert "more by" in report.mismatches[0]
        assert state is TradingState.HALTED
