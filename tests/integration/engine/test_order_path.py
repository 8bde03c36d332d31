"""The order path does what the strategy meant, on an ordinary day (issue 13): working orders replaced, not
piled up; a target pursued until it holds; exits that protect every part of an entry that filled; buys
the exchange accepts. Each runs the canary bot's real execution code against the sandbox through the
Coinbase adapter, on a sandbox clock that moves only when the test moves it.

The bot's mark is set by hand where a test needs an order to rest or to expire unfilled: a mark below the
market puts a buy's protective limit under the asks.
"""

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.config import BotConfig
from gpttrader.domain import Order, OrderRequest, OrderStatus, OrderType, Side
from gpttrader.domain.events import EventType
from gpttrader.engine.bot import TradingBot
from gpttrader.risk import TradeContext, TradingState
from gpttrader.sandbox import RunningSandbox
from gpttrader.strategy import Bar, CancelEntries, Intent, OrderIntent, TargetPosition
from tests.integration.engine.sessions import API, FUTURE, PID, ROOMY_CAP, START, config, mid
from tests.integration.engine.strategies import Quiet
from tests.integration.sandbox.conftest import SandboxFactory, admin_call, inject, sdk_client


@pytest.fixture
def market(start_sandbox: SandboxFactory) -> RunningSandbox:
    return start_sandbox(virtual_start=START.timestamp(), speed=1.0)


@pytest.fixture
def canary(market: RunningSandbox, tmp_path: Path) -> Iterator[tuple[TradingBot, ApplicationContainer]]:
    yield from running(market, config(market, tmp_path))


@pytest.fixture
def gtc(market: RunningSandbox, tmp_path: Path) -> Iterator[tuple[TradingBot, ApplicationContainer]]:
    """The canary with prod's good-till-cancelled limits."""
    yield from running(market, config(market, tmp_path, execution={"time_in_force": "GTC"}))


def running(sandbox: RunningSandbox, settings: BotConfig) -> Iterator[tuple[TradingBot, ApplicationContainer]]:
    with ApplicationContainer(settings, clock=SandboxClock(sandbox)) as container:
        bot = container.create_bot(Quiet())
        bot.bootstrap()
        yield bot, container
        bot.shutdown()


def bar_at(minute: int) -> Bar:
    return Bar(PID, START + timedelta(minutes=minute), 1.0, 1.0, 1.0, 1.0, 1.0)


def decide(bot: TradingBot, minute: int, decision: TargetPosition | tuple[Intent, ...], mark: Decimal) -> None:
    """The bot acts on a decision about the bar of `minute`, at its close, with `mark` as its quote."""
    market_time = START + timedelta(minutes=minute + 1)
    bot.clock.sleep_until(market_time, threading.Event())
    bot.marks.update(PID, mark, market_time)
    bot.execution.act(bar_at(minute), decision, market_time)
    bot.execution.refresh()


def open_at_exchange(market: RunningSandbox, side: str | None = None) -> list[Any]:
    orders = sdk_client(market).list_orders(product_ids=[PID], order_status=["OPEN"]).orders
    return [o for o in orders if side is None or o.side == side]


def target(value: float) -> TargetPosition:
    return TargetPosition(PID, value, 1.0, "test")


def test_a_changed_target_replaces_its_working_order_and_they_never_pile_up(
    market: RunningSandbox, gtc: tuple[TradingBot, ApplicationContainer]
) -> None:
    bot, _ = gtc
    low = mid(market) * Decimal("0.95")  # the bot's buys rest under the asks
    resting = []
    for minute, wanted in enumerate([1.0, 0.0, 1.0, 0.0, 1.0]):
        decide(bot, minute, target(wanted), low)
        resting.append(len(open_at_exchange(market, "BUY")))
    assert resting == [1, 0, 1, 0, 1]  # today: 1, 1, 2, 2, 3 good-till-cancelled buys resting at once
    sizes = [Decimal(o.order_configuration.limit_limit_gtc.base_size) for o in open_at_exchange(market, "BUY")]
    assert sum(sizes) <= Decimal(ROOMY_CAP)


def test_a_target_still_wanted_chases_a_resting_order_to_the_new_price(
    market: RunningSandbox, gtc: tuple[TradingBot, ApplicationContainer]
) -> None:
    bot, container = gtc
    decide(bot, 0, target(1.0), mid(market) * Decimal("0.95"))
    first = open_at_exchange(market, "BUY")
    assert len(first) == 1
    decide(bot, 1, target(1.0), mid(market))
    assert open_at_exchange(market, "BUY") == []
    assert bot.execution.portfolio.size(PID) > 0  # replaced at a price that fills
    replaced = container.orders_store.get(first[0].client_order_id)
    assert replaced is not None
    assert replaced.status is OrderStatus.CANCELLED


def test_a_limit_entry_expires_after_its_bars_live_as_in_the_backtest(
    market: RunningSandbox, gtc: tuple[TradingBot, ApplicationContainer]
) -> None:
    bot, _ = gtc
    price = float(mid(market) * Decimal("0.9"))
    entry = OrderIntent(PID, Side.BUY, OrderType.LIMIT, 0.5, limit_price=price, expire_bars=2)
    decide(bot, 0, (entry,), mid(market))
    (resting,) = open_at_exchange(market, "BUY")
    decide(bot, 1, (), mid(market))  # it works on the two bars after the one it was decided on
    assert [o.order_id for o in open_at_exchange(market, "BUY")] == [resting.order_id]
    decide(bot, 2, (), mid(market))  # the second has closed: it is cancelled, as the backtest stops working it
    assert open_at_exchange(market, "BUY") == []


def test_a_strategy_cancels_its_working_entry_live_as_in_the_backtest(
    market: RunningSandbox, gtc: tuple[TradingBot, ApplicationContainer]
) -> None:
    bot, _ = gtc
    entry = OrderIntent(PID, Side.BUY, OrderType.LIMIT, 0.5, limit_price=float(mid(market) * Decimal("0.9")))
    decide(bot, 0, (entry,), mid(market))
    (resting,) = open_at_exchange(market, "BUY")
    decide(bot, 1, (CancelEntries(PID, "no longer wanted"),), mid(market))
    assert open_at_exchange(market, "BUY") == []
    cancelled = bot.orders.get(resting.client_order_id)
    assert cancelled is not None
    assert cancelled.status is OrderStatus.CANCELLED
    decide(bot, 2, (), mid(market))  # nothing decided: nothing placed again
    assert open_at_exchange(market, "BUY") == []


def test_a_target_refused_by_risk_is_tried_again_while_the_strategy_keeps_it(
    market: RunningSandbox, canary: tuple[TradingBot, ApplicationContainer]
) -> None:
    bot, _ = canary
    bot.risk.set_state(TradingState.REDUCE_ONLY, operator="test", reason="test: a breaker held for a bar")
    decide(bot, 0, target(1.0), mid(market))
    assert bot.execution.portfolio.size(PID) == 0
    bot.risk.set_state(TradingState.ACTIVE, operator="test", reason="test: released")
    decide(bot, 1, target(1.0), mid(market))  # today: the same target is never acted on again
    assert bot.execution.portfolio.size(PID) > 0


def test_an_ioc_that_expired_unfilled_is_tried_again(
    market: RunningSandbox, canary: tuple[TradingBot, ApplicationContainer]
) -> None:
    bot, container = canary
    decide(bot, 0, target(1.0), mid(market) * Decimal("0.95"))  # its limit is under every ask: nothing fills
    (first,) = container.orders_store.all_orders()
    assert first.status is OrderStatus.CANCELLED
    assert first.filled_size == 0
    decide(bot, 1, target(1.0), mid(market))
    assert bot.execution.portfolio.size(PID) > 0


def test_a_sell_rejected_by_the_exchange_is_tried_again_with_backoff(
    market: RunningSandbox, canary: tuple[TradingBot, ApplicationContainer]
) -> None:
    bot, container = canary
    decide(bot, 0, target(1.0), mid(market))
    held = bot.execution.portfolio.size(PID)
    assert held > 0
    inject(market, kind="rate_limit", retry_after=0.05, count=50, method="POST", path_prefix=f"{API}/orders")
    decide(bot, 1, target(0.0), mid(market))  # refused by the exchange, certainly not placed
    admin_call(market, "DELETE", "faults")
    assert bot.execution.portfolio.size(PID) == held
    decide(bot, 2, target(0.0), mid(market))  # one bar of backoff after one failure
    assert bot.execution.portfolio.size(PID) == 0
    sells = [o for o in container.orders_store.all_orders() if o.side is Side.SELL]
    assert [o.status for o in sells] == [OrderStatus.FAILED, OrderStatus.FILLED]


def test_a_target_unmet_for_its_bars_raises_an_alert(
    market: RunningSandbox, canary: tuple[TradingBot, ApplicationContainer]
) -> None:
    bot, _ = canary
    bot.risk.set_state(TradingState.REDUCE_ONLY, operator="test", reason="test: a breaker that holds")
    limit = bot.config.execution.target_unmet_alert_bars
    for minute in range(limit):
        decide(bot, minute, target(1.0), mid(market))
    now = START + timedelta(minutes=limit + 1)
    fired = bot.alerts.evaluate(bot.health(now), now)
    assert "target_unmet" in {a.rule for a in fired}
    assert bot.execution.unmet[PID] == limit


def bracket(market: RunningSandbox, fraction: float, *, above: str = "1.0002") -> OrderIntent:
    price = mid(market)
    return OrderIntent(
        PID,
        Side.BUY,
        OrderType.LIMIT,
        fraction,
        limit_price=float(price * Decimal(above)),
        take_profit=float(price * Decimal("1.5")),
        stop_loss=float(price * Decimal("0.5")),
    )


def exits_at_exchange(market: RunningSandbox) -> list[Any]:
    return [o for o in open_at_exchange(market, "SELL") if hasattr(o.order_configuration, "trigger_bracket_gtc")]


def size_of(exit_order: Any) -> Decimal:
    return Decimal(exit_order.order_configuration.trigger_bracket_gtc.base_size)


def at_minute(bot: TradingBot, minute: int) -> None:
    """The market at the close of the bar of `minute` (where a price a test computes must be taken)."""
    bot.clock.sleep_until(START + timedelta(minutes=minute + 1), threading.Event())


def test_each_part_of_an_entry_that_fills_is_protected_at_once(market: RunningSandbox, tmp_path: Path) -> None:
    settings = config(
        market,
        tmp_path,
        execution={"time_in_force": "GTC"},
        sizing={"method": "fixed_fraction", "fraction": "0.5"},
        risk={"limits_file": None},  # its $10k cap on BTC-USD is under the book's first level
    )
    for bot, container in running(market, settings):
        # Half the equity at a limit within the touch: the book's first level fills it in part, the rest rests.
        at_minute(bot, 0)
        decide(bot, 0, (bracket(market, 1.0, above="1.00012"),), mid(market))
        (entry,) = [o for o in container.orders_store.open_orders() if o.side is Side.BUY]
        assert 0 < entry.filled_size < entry.request.size, "the entry should fill in part and rest"
        exits = exits_at_exchange(market)
        assert len(exits) == 1  # today: no exit until the entry is done, which a resting entry never is
        assert size_of(exits[0]) == entry.filled_size


def entered(bot: TradingBot, market: RunningSandbox) -> Decimal:
    """A bracketed entry that fills at once, its exit not placed yet (that is the next refresh's)."""
    at_minute(bot, 0)
    bot.marks.update(PID, mid(market), START + timedelta(minutes=1))
    bot.execution.act(bar_at(0), (bracket(market, 0.5, above="1.001"),), START + timedelta(minutes=1))
    held = bot.execution.portfolio.size(PID)
    assert held > 0
    return held


def refused(market: RunningSandbox) -> None:
    """Every order post refused with a 429 (which Coinbase answers without processing the request)."""
    inject(market, kind="rate_limit", retry_after=0.05, count=1000, method="POST", path_prefix=f"{API}/orders")


def test_an_exit_that_fails_to_place_is_tried_again(
    market: RunningSandbox, canary: tuple[TradingBot, ApplicationContainer]
) -> None:
    bot, container = canary
    held = entered(bot, market)
    refused(market)
    bot.execution.refresh()  # the exit's placement is refused, certainly not placed
    admin_call(market, "DELETE", "faults")
    assert exits_at_exchange(market) == []
    bot.execution.refresh()  # today: dropped for good after one failure
    (placed,) = exits_at_exchange(market)
    assert size_of(placed) == held
    exits = [o for o in container.orders_store.all_orders() if o.request.order_type is OrderType.BRACKET]
    assert [o.status for o in exits] == [OrderStatus.FAILED, OrderStatus.OPEN]


def test_an_exit_that_cannot_be_placed_turns_the_bot_reduce_only_with_an_alert(
    market: RunningSandbox, canary: tuple[TradingBot, ApplicationContainer]
) -> None:
    bot, _ = canary
    entered(bot, market)
    refused(market)
    for _ in range(bot.config.execution.exit_place_attempts):
        bot.execution.refresh()
    admin_call(market, "DELETE", "faults")
    assert bot.risk.state is TradingState.REDUCE_ONLY
    now = START + timedelta(minutes=2)
    assert "exit_unplaced" in {a.rule for a in bot.alerts.evaluate(bot.health(now), now)}
    bot.execution.refresh()  # it keeps trying, and the alert clears once the exit is placed
    assert len(exits_at_exchange(market)) == 1
    assert bot.execution.exits.unprotected == {}


def test_a_spot_sell_that_does_not_fill_leaves_the_position_protected(
    market: RunningSandbox, canary: tuple[TradingBot, ApplicationContainer]
) -> None:
    bot, container = canary
    decide(bot, 0, (bracket(market, 0.5, above="1.001"),), mid(market))
    held = bot.execution.portfolio.size(PID)
    (exit_order,) = exits_at_exchange(market)
    # The strategy sells it all at a limit over every bid, for one bar. The exits had to be cancelled for it
    # (they hold the coins it sells); while it rests it is what exits the position, and once it has ended
    # unfilled the position must not be left without its stop.
    price = float(mid(market) * Decimal("1.2"))
    decide(bot, 1, (OrderIntent(PID, Side.SELL, OrderType.LIMIT, 1.0, limit_price=price, expire_bars=1),), mid(market))
    cancelled = container.orders_store.get(exit_order.client_order_id)
    assert cancelled is not None
    assert cancelled.status is OrderStatus.CANCELLED
    assert exits_at_exchange(market) == []  # not beside the resting sell: together they would sell twice
    decide(bot, 2, (), mid(market))  # the sell's bar is over: cancelled, unfilled
    assert bot.execution.portfolio.size(PID) == held
    (replaced,) = exits_at_exchange(market)  # today: the exits are never placed again
    assert size_of(replaced) == held


def test_a_buy_sized_to_the_cash_available_is_accepted(market: RunningSandbox, tmp_path: Path) -> None:
    """All-in with part of the cash held by a resting order: sized at the mid against the total, the buy
    went out as a limit 20 bps higher and the exchange's hold exceeded what was available."""
    settings = config(
        market, tmp_path, sizing={"method": "fixed_fraction", "fraction": "1"}, risk={"limits_file": None}
    )
    client = sdk_client(market)
    for bot, container in running(market, settings):
        at_minute(bot, 0)
        held = client.limit_order_gtc_buy(
            "someone-else", PID, base_size="0.2", limit_price=str((mid(market) / 2).quantize(Decimal("0.01")))
        )
        assert held.success
        bot.refresh.cash(bot.execution, derivatives=False)  # the cycle's read of the account, after the hold
        decide(bot, 0, target(1.0), mid(market))
        (buy,) = [o for o in container.orders_store.all_orders() if o.side is Side.BUY]
        assert buy.status is OrderStatus.FILLED, buy.reject_reason  # today: REJECTED INSUFFICIENT_FUND


def test_working_buys_and_sells_count_apart_so_no_combination_of_fills_passes_a_cap(
    market: RunningSandbox, tmp_path: Path
) -> None:
    """Flat on a future with a buy of 2 and a sell of 2 resting: either may fill alone. Netted in the order
    they came, the sell cancelled the buy out and a new sell of 1 was checked against a long of 2: its cap
    of 2 contracts let the short side reach 3."""
    settings = config(
        market,
        tmp_path,
        symbols=[FUTURE],
        risk={"limits_file": None, "max_notional_per_position": None, "max_position_size": {FUTURE: "2"}},
    )
    opened = START + timedelta(minutes=1)
    resting = [
        Order(
            OrderRequest(cid, FUTURE, side, OrderType.LIMIT, Decimal(2), Decimal(1)),
            OrderStatus.OPEN,
            opened,
            opened,
            order_id=cid,
        )
        for cid, side in (("b", Side.BUY), ("s", Side.SELL))
    ]
    for bot, _ in running(market, settings):
        ex = bot.execution
        sell = OrderRequest("new", FUTURE, Side.SELL, OrderType.MARKET, Decimal(1))
        buy = replace(sell, side=Side.BUY)
        assert ex.exposure_positions(resting, sell)[FUTURE].size == -2
        assert ex.exposure_positions(resting, buy)[FUTURE].size == 2
        mark = bot.marks.price(FUTURE)
        assert mark is not None
        product = ex.products[FUTURE]
        ctx = TradeContext(
            sell, product, mark, ex.equity(), ex.exposure_positions(resting, sell), bot.risk.state, opened, opened
        )
        assert not bot.risk.check_order(ctx).passed


@dataclass(frozen=True)
class Broken:
    """A strategy with a bug: it raises on every bar it is asked to decide after warming up."""

    name: str = "broken"
    warmup: int = 1

    def new_state(self) -> dict[str, int]:
        return {"bars": 0}

    def on_bar(self, bar: Bar, state: dict[str, int]) -> tuple[OrderIntent, ...]:
        state["bars"] += 1
        if bar.time >= START:
            raise ZeroDivisionError("the strategy divided by a zero volume")
        return ()


@pytest.mark.parametrize("policy", ["continue", "halt"])
def test_an_error_that_is_not_the_exchanges_is_recorded_counted_and_handled_by_policy(
    market: RunningSandbox, tmp_path: Path, policy: str
) -> None:
    settings = config(
        market,
        tmp_path,
        execution={"on_cycle_error": policy},
        guards={"error_rate": {"enabled": True}},
        risk={"error_rate_window": 3},
    )
    with ApplicationContainer(settings, clock=SandboxClock(market)) as container:
        bot = container.create_bot(Broken())
        bot.bootstrap()
        if policy == "halt":
            with pytest.raises(ZeroDivisionError):
                bot.run(max_cycles=3)
        else:
            bot.run(max_cycles=3)  # today: the first error ends the loop, whatever the profile says
        bot.shutdown()
        errors = [e.payload for e in container.event_store.read(types=[EventType.BOT_CYCLE_ERROR])]
        assert {e["error"] for e in errors} == {"ZeroDivisionError"}
        # The first cycle decides on the last bar before START (no error), each later one raises.
        assert len(errors) == (1 if policy == "halt" else 2)
        assert bot.metrics.errors == len(errors)
        assert bot.metrics.cycles == (1 if policy == "halt" else 3)
        rate = next(r for r in bot.risk.readings() if r.metric == "error_rate")
        if policy == "continue":  # it carried on, and the error-rate guard decided: 2 of the last 3 cycles failed
            assert rate.value == pytest.approx(2 / 3)
        assert bot.risk.state is (TradingState.ACTIVE if policy == "halt" else TradingState.HALTED)


def test_a_target_is_not_given_up_when_its_own_resting_buy_held_the_cash(
    market: RunningSandbox, tmp_path: Path
) -> None:
    """All-in, a GTC buy rests and holds the cash; next bar the pursuit cancels it and sizes the new order
    against what that freed (not the cycle's read from before the cancel, which would cut it to nothing and
    take the goal for met)."""
    settings = config(
        market,
        tmp_path,
        execution={"time_in_force": "GTC"},
        sizing={"method": "fixed_fraction", "fraction": "1"},
        risk={"limits_file": None},
    )
    for bot, _ in running(market, settings):
        at_minute(bot, 0)
        bot.refresh.cash(bot.execution, derivatives=False)
        decide(bot, 0, target(1.0), mid(market) * Decimal("0.95"))  # rests under the asks
        assert len(open_at_exchange(market, "BUY")) == 1
        bot.refresh.cash(bot.execution, derivatives=False)  # as the cycle does after refresh: the hold is not available
        decide(bot, 1, target(1.0), mid(market))
        bot.refresh.cash(bot.execution, derivatives=False)
        decide(bot, 2, target(1.0), mid(market))
        assert bot.execution.portfolio.size(PID) > 0, (
            f"target long never pursued; goal={bot.execution.pursuits[PID].goal} unmet={bot.execution.unmet}"
        )


def test_a_bar_decided_again_after_a_restart_keeps_its_own_entry(market: RunningSandbox, tmp_path: Path) -> None:
    """A restart re-decides the last closed bar (warm-up leaves it out): the working entry of that very bar is
    the decision's own, not one to replace (its id is stored, so it would not be sent again)."""
    settings = config(market, tmp_path, execution={"time_in_force": "GTC"})
    for bot, container in running(market, settings):
        price = float(mid(market) * Decimal("0.9"))
        entry = OrderIntent(PID, Side.BUY, OrderType.LIMIT, 0.5, limit_price=price, expire_bars=5)
        decide(bot, 0, (entry,), mid(market))
        assert len(open_at_exchange(market, "BUY")) == 1
        decide(bot, 0, (entry,), mid(market))  # the same bar, the same decision (a restart within the bar)
        statuses = [o.status for o in container.orders_store.all_orders()]
        assert len(open_at_exchange(market, "BUY")) == 1, f"entry lost: {statuses}"


def test_exits_placed_beside_a_resting_spot_sell_cover_only_the_rest(market: RunningSandbox, tmp_path: Path) -> None:
    """Prod's GTC: a strategy's sell that rests. The exits were cancelled for it (they held its coins) and
    are placed again for what the sell leaves, never beside it for the whole position."""
    settings = config(market, tmp_path, execution={"time_in_force": "GTC"})
    for bot, _ in running(market, settings):
        decide(bot, 0, (bracket(market, 0.5, above="1.001"),), mid(market))
        held = bot.execution.portfolio.size(PID)
        assert held > 0
        assert len(exits_at_exchange(market)) == 1
        sell = OrderIntent(PID, Side.SELL, OrderType.LIMIT, 1.0, limit_price=float(mid(market) * Decimal("1.2")))
        decide(bot, 1, (sell,), mid(market))
        for _ in range(bot.config.execution.exit_place_attempts + 1):
            bot.execution.refresh()
        resting_sells = [
            o for o in open_at_exchange(market, "SELL") if hasattr(o.order_configuration, "limit_limit_gtc")
        ]
        exits = exits_at_exchange(market)
        covered = sum((size_of(e) for e in exits), Decimal(0))
        sold = sum((Decimal(o.order_configuration.limit_limit_gtc.base_size) for o in resting_sells), Decimal(0))
        assert sold + covered <= held, f"held {held}: resting sell {sold} + exits {covered}"
        assert bot.risk.state is TradingState.ACTIVE, bot.risk.state


def test_an_exit_plan_of_a_product_removed_from_the_profile_does_not_stop_the_bot(
    market: RunningSandbox, tmp_path: Path
) -> None:
    """A bracketed entry rests unfilled; the operator removes its product from `symbols` and restarts: the
    plan is still open and its product is looked up at the exchange (a KeyError here would stop the loop,
    and `gpttrader run` would flatten everything)."""
    settings = config(market, tmp_path, execution={"time_in_force": "GTC"})
    for bot, _ in running(market, settings):
        decide(bot, 0, (bracket(market, 0.5, above="0.9"),), mid(market))  # rests under the asks
        assert len(open_at_exchange(market, "BUY")) == 1
    other = config(market, tmp_path, symbols=["ETH-USD"], risk={"max_position_size": {}})
    for bot, _ in running(market, other):
        bot.cycle()
        assert bot.metrics.errors == 0


def test_an_order_final_at_the_exchange_before_all_its_fills_are_listed_waits_for_them(
    market: RunningSandbox, tmp_path: Path
) -> None:
    """A buy that walks three levels of the book fills three times; the exchange says FILLED while its
    fills listing has not caught up (one missing). The order stays open until the listing adds up."""
    settings = config(
        market, tmp_path, sizing={"method": "fixed_fraction", "fraction": "0.5"}, risk={"limits_file": None}
    )
    for bot, container in running(market, settings):
        at_minute(bot, 0)
        inject(
            market, kind="garble", body="lagging", count=1, method="GET", path_prefix=f"{API}/orders/historical/fills"
        )
        bot.marks.update(PID, mid(market), START + timedelta(minutes=1))
        bot.execution.act(bar_at(0), target(1.0), START + timedelta(minutes=1))
        (buy,) = container.orders_store.all_orders()
        exchange = sdk_client(market).get_order(buy.order_id).order
        assert exchange.status == "FILLED"
        assert int(exchange.number_of_fills) >= 2
        assert not buy.is_terminal  # FILLED only once its fills add up to what the exchange filled
        assert buy.filled_size < Decimal(exchange.filled_size)
        bot.execution.refresh()
        done = container.orders_store.get(buy.client_order_id)
        assert done is not None
        assert done.status is OrderStatus.FILLED
        assert done.filled_size == Decimal(exchange.filled_size) == bot.execution.portfolio.size(PID)


def test_the_impact_check_walks_the_exchanges_book_before_an_order_goes(market: RunningSandbox, tmp_path: Path) -> None:
    """A buy capped at about $37k walks two levels of the sandbox's book (each holds about $20k), an average
    near half a basis point from the touch, over a limit of 0.2: refused with the impact check's reason.
    Today the live loop gives the check no book, so it passes everything."""
    settings = config(
        market,
        tmp_path,
        sizing={"method": "fixed_fraction", "fraction": "0.5"},
        risk={"limits_file": None, "max_impact_bps": "0.2"},
    )
    for bot, container in running(market, settings):
        decide(bot, 0, target(1.0), mid(market))
        assert container.orders_store.all_orders() == []
        refused = [e.payload for e in container.event_store.read(types=[EventType.RISK_ORDER_REJECTED])]
        assert [r["check"] for r in refused] == ["impact_cost"]


def test_a_working_entry_that_would_grow_the_position_stops_when_the_bot_turns_reduce_only(
    market: RunningSandbox, gtc: tuple[TradingBot, ApplicationContainer]
) -> None:
    """The backtest's rule, live: a state that refuses new exposure also stops the orders already working
    toward it (a resting buy filling under reduce-only would grow the position the state protects), while
    what shrinks the position (the exits) keeps working."""
    bot, container = gtc
    entered(bot, market)
    bot.execution.refresh()
    (exit_order,) = exits_at_exchange(market)
    below = OrderIntent(PID, Side.BUY, OrderType.LIMIT, 0.2, limit_price=float(mid(market) * Decimal("0.9")))
    decide(bot, 1, (below,), mid(market))
    (resting,) = open_at_exchange(market, "BUY")
    bot.risk.escalate(TradingState.REDUCE_ONLY, "a guard tripped")
    bot.execution.refresh()
    assert open_at_exchange(market, "BUY") == []  # today: the buy keeps resting under reduce-only
    assert [o.order_id for o in exits_at_exchange(market)] == [exit_order.order_id]
    stopped = bot.orders.get(resting.client_order_id)
    assert stopped is not None
    assert stopped.status is OrderStatus.CANCELLED
    (event,) = container.event_store.read(types=[EventType.RISK_ORDER_CANCELLED])
    assert event.payload["client_order_id"] == resting.client_order_id
    assert event.payload["state"] == "reduce_only"


def test_a_stop_the_exchange_does_not_carry_out_is_not_recorded_as_one(
    market: RunningSandbox, gtc: tuple[TradingBot, ApplicationContainer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Coinbase answers a cancel it could not do with success false (the order filled meanwhile, or is
    being cancelled): the order still works, so no `risk.order_cancelled` is recorded, and the stop is tried
    again each cycle until it holds."""
    bot, container = gtc
    below = OrderIntent(PID, Side.BUY, OrderType.LIMIT, 0.2, limit_price=float(mid(market) * Decimal("0.9")))
    decide(bot, 0, (below,), mid(market))
    (resting,) = open_at_exchange(market, "BUY")
    bot.risk.escalate(TradingState.REDUCE_ONLY, "a guard tripped")
    monkeypatch.setattr(container.broker, "cancel_orders", lambda ids: dict.fromkeys(ids, False))
    for _ in range(3):
        bot.execution.refresh()
    assert [o.order_id for o in open_at_exchange(market, "BUY")] == [resting.order_id]
    assert list(container.event_store.read(types=[EventType.RISK_ORDER_CANCELLED])) == []  # one a cycle before
    monkeypatch.undo()
    bot.execution.refresh()
    assert open_at_exchange(market, "BUY") == []
    assert len(list(container.event_store.read(types=[EventType.RISK_ORDER_CANCELLED]))) == 1


def test_an_order_is_quantized_and_checked_once_on_its_way_out(
    market: RunningSandbox, canary: tuple[TradingBot, ApplicationContainer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The executor prepares it (on the grid, within the product's limits) and the adapter sends that as it
    is; a direct call to the adapter with an unprepared order is still prepared there."""
    import gpttrader.brokers.coinbase.broker as adapter
    import gpttrader.engine.execution as execution

    calls: list[str] = []
    for module in (adapter, execution):
        real = module.prepare_order
        monkeypatch.setattr(
            module,
            "prepare_order",
            lambda *a, real=real, name=module.__name__, **k: calls.append(name) or real(*a, **k),
        )
    _, container = canary
    order = container.order_executor.submit(
        OrderRequest("once-1", PID, Side.BUY, OrderType.MARKET, Decimal("0.0012345678"))
    )
    assert order.request.size == Decimal("0.00123456")
    assert calls == ["gpttrader.engine.execution"]  # today: the adapter prepares it a second time
    calls.clear()
    container.broker.place_order(OrderRequest("once-2", PID, Side.BUY, OrderType.MARKET, Decimal("0.0012345678")))
    assert calls == ["gpttrader.brokers.coinbase.broker"]


def test_a_leftover_worth_less_than_the_minimum_order_gets_no_exit_and_no_alarm(
    market: RunningSandbox, canary: tuple[TradingBot, ApplicationContainer]
) -> None:
    """What is left of a position after a sell may be dust: worth less than the product's minimum order,
    so no exit can carry it (each would be refused before it is sent). It is not an unprotected position:
    no exit is tried, and the bot does not turn reduce-only over it (paper did, after an hour, for 0.0032 SOL)."""
    bot, container = canary
    at_minute(bot, 0)
    price = mid(market)
    entry = replace(bracket(market, 0.5, above="1.001"), take_profit=float(price * Decimal("1.02")))
    bot.marks.update(PID, price, START + timedelta(minutes=1))
    bot.execution.act(bar_at(0), (entry,), START + timedelta(minutes=1))
    held = bot.execution.portfolio.size(PID)
    bot.execution.refresh()
    (exit_order,) = exits_at_exchange(market)
    container.order_executor.cancel(exit_order.client_order_id)
    # The product's minimum size, worth under the 1 USD minimum order at the exit's take-profit.
    dust = Decimal("0.00001")
    assert dust * price * Decimal("1.02") < 1
    container.order_executor.submit(OrderRequest("operator-1", PID, Side.SELL, OrderType.MARKET, held - dust))
    for _ in range(bot.config.execution.exit_place_attempts + 1):
        bot.execution.refresh()
    assert bot.execution.portfolio.size(PID) == dust
    assert exits_at_exchange(market) == []
    assert bot.risk.state is TradingState.ACTIVE  # today: reduce_only, "exit ... not placed after 3 attempts"
    assert bot.execution.exits.unprotected == {}
