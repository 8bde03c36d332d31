"""The order-rate limits (issue 14): at most so many orders a minute, an hour and a day, and a minimum time
between two, as pre-trade checks with reason codes; an order that only shrinks a position passes."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from gpttrader.config import load_config
from gpttrader.domain import OrderRequest, OrderType, Position, Product, Side
from gpttrader.risk import MemoryJournal, TradeContext, TradeLimits, TradingState, checks
from gpttrader.risk.checks import run_checks
from gpttrader.risk.limits import OrderRate
from gpttrader.risk.manager import LiveRiskManager

NOW = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
CANARY = TradeLimits(order_rate=OrderRate(per_minute=2, per_hour=20, per_day=50, min_interval=timedelta(seconds=30)))


def ago(*seconds: float) -> tuple[datetime, ...]:
    return tuple(NOW - timedelta(seconds=s) for s in seconds)


def context(product: Product, sent: tuple[datetime, ...], *, side: Side = Side.BUY, held: str = "0") -> TradeContext:
    positions = {}
    if D(held):
        positions[product.product_id] = Position(product.product_id, D(held), D(40_000), D(40_000))
    request = OrderRequest("c-1", product.product_id, side, OrderType.MARKET, D("0.01"))
    return TradeContext(request, product, D(40_000), D(100_000), positions, TradingState.ACTIVE, NOW, NOW, sent_at=sent)


def verdict(check: checks.Check, ctx: TradeContext, limits: TradeLimits = CANARY) -> str:
    result = check(ctx, limits)
    return "pass" if result.passed else result.reason


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ((), "pass"),
        (ago(45), "pass"),
        (ago(90, 45), "pass"),  # the first is out of the minute
        (ago(60, 30), "rate_per_minute"),  # the minute's far end is in it: a third order within a minute
        (ago(59, 31), "rate_per_minute"),
        (ago(60.001, 30), "pass"),
        (ago(-1, 30), "rate_per_minute"),  # one stamped a moment ahead of this check's clock counts too
    ],
)
def test_at_most_two_orders_a_minute(btc: Product, sent: tuple[datetime, ...], expected: str) -> None:
    assert verdict(checks.order_rate, context(btc, sent)) == expected


def test_the_hour_and_the_day_are_counted_apart(btc: Product) -> None:
    hour = ago(*(120 + 150 * i for i in range(20)))  # 20 orders in the last hour, none in the last minute
    assert verdict(checks.order_rate, context(btc, hour[1:])) == "pass"
    assert verdict(checks.order_rate, context(btc, hour)) == "rate_per_hour"
    day = ago(*(4_000 + 1_500 * i for i in range(50)))  # 50 in the last day, none in the last hour
    assert verdict(checks.order_rate, context(btc, day[1:])) == "pass"
    assert verdict(checks.order_rate, context(btc, day)) == "rate_per_day"
    older = ago(*(86_401 + i for i in range(100)))  # a day and a second ago: out of every window
    assert verdict(checks.order_rate, context(btc, older)) == "pass"


def test_the_message_names_the_limit_and_the_count(btc: Product) -> None:
    result = checks.order_rate(context(btc, ago(50, 20)), CANARY)
    assert (result.check, result.reason) == ("order_rate", "rate_per_minute")
    assert "2 orders sent in the last minute" in result.message
    assert "limit 2 per minute" in result.message
    assert "order_limits.per_minute" in result.message
    gap = checks.order_interval(context(btc, ago(100, 12.5)), CANARY)
    assert (gap.check, gap.reason) == ("order_interval", "min_interval")
    assert "12.5 s since the last order" in gap.message
    assert "at least 30 s apart" in gap.message


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ((), "pass"),
        (ago(30), "pass"),  # exactly the interval: far enough
        (ago(29.999), "min_interval"),
        (ago(200, 5), "min_interval"),  # the last one counts, not the first
        (ago(5, 200), "min_interval"),  # whatever order they are given in
    ],
)
def test_at_least_thirty_seconds_apart(btc: Product, sent: tuple[datetime, ...], expected: str) -> None:
    assert verdict(checks.order_interval, context(btc, sent)) == expected


def test_an_order_that_only_shrinks_a_position_passes_both(btc: Product) -> None:
    burst = ago(50, 20, 1)
    selling = context(btc, burst, side=Side.SELL, held="0.05")
    assert verdict(checks.order_rate, selling) == "pass"
    assert verdict(checks.order_interval, selling) == "pass"
    assert run_checks(selling, CANARY).passed
    # A sell that goes through zero to a short is not a reduction: held to the limits.
    flipping = replace(selling, order=replace(selling.order, size=D("0.1")), positions={})
    assert verdict(checks.order_rate, flipping) == "rate_per_minute"


def test_no_limits_no_refusal(btc: Product) -> None:
    burst = ago(*(i * 0.1 for i in range(5_000)))
    assert run_checks(context(btc, burst), TradeLimits()).passed
    assert TradeLimits().order_rate.lookback == timedelta(0)


def test_run_checks_refuses_with_the_reason_code(btc: Product) -> None:
    rejection = run_checks(context(btc, ago(50, 40)), CANARY).rejection
    assert rejection is not None
    assert (rejection.check, rejection.reason) == ("order_rate", "rate_per_minute")
    rejection = run_checks(context(btc, ago(10)), CANARY).rejection
    assert rejection is not None
    assert (rejection.check, rejection.reason) == ("order_interval", "min_interval")


def test_the_limits_come_from_the_profile(clean_env: dict[str, str]) -> None:
    rate = TradeLimits.from_config(load_config("canary")).order_rate
    assert rate == OrderRate(per_minute=2, per_hour=20, per_day=50, min_interval=timedelta(seconds=30))
    assert rate.lookback == timedelta(days=1)
    dev = TradeLimits.from_config(load_config("dev")).order_rate
    assert (dev.per_minute, dev.per_hour, dev.per_day, dev.min_interval) == (10, 200, 1000, timedelta(0))


def test_the_manager_records_a_rate_refusal(btc: Product, clean_env: dict[str, str]) -> None:
    journal = MemoryJournal()
    manager = LiveRiskManager.from_config(load_config("canary"), journal)
    ctx = context(btc, ago(40, 10))
    decision = manager.validate(ctx)
    assert decision.rejection is not None
    [event] = [e for e in journal.events if e.type == "risk.order_rejected"]
    assert (event.payload["check"], event.payload["reason"]) == ("order_rate", "rate_per_minute")
