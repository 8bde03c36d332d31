"""Each pre-trade check at, just under and just over its limit, with its reason code."""

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal as D

import pytest

from gpttrader.config.models import TradingWindow
from gpttrader.domain import BookLevel, OrderRequest, OrderType, Position, Product, Side
from gpttrader.risk import TradeContext, TradeLimits, TradingState, checks
from gpttrader.risk.checks import run_checks

NOW = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
LIMITS = TradeLimits(
    max_notional={"BTC-USD": D(10_000)},
    max_size={"BTC-USD": D("0.5")},
    max_leverage={"BIT-27DEC26-CDE": D(2)},
    max_position_fraction=D("0.5"),
    max_exposure_fraction=D("0.6"),
    max_impact_bps=D(50),
    max_mark_age_seconds=D(30),
    trading_window=TradingWindow(start=time(14), end=time(15)),
)


def order(size: str, side: Side = Side.BUY, product_id: str = "BTC-USD", **extra: object) -> OrderRequest:
    kind = OrderType.LIMIT if "limit_price" in extra else OrderType.MARKET
    return OrderRequest("c-1", product_id, side, kind, D(size), **extra)  # type: ignore[arg-type]


def context(request: OrderRequest, product: Product, *, held: str = "0", **changes: object) -> TradeContext:
    positions = {}
    if D(held):
        positions[product.product_id] = Position(
            product.product_id,
            D(held),
            D(40_000),
            D(40_000),
            product_type=product.product_type,
            multiplier=product.multiplier,
        )
    base = TradeContext(request, product, D(40_000), D(40_000), positions, TradingState.ACTIVE, NOW, NOW)
    return replace(base, **changes)  # type: ignore[arg-type]


def verdict(check: checks.Check, ctx: TradeContext, limits: TradeLimits = LIMITS) -> str:
    result = check(ctx, limits)
    return "pass" if result.passed else result.reason


def test_kill_switch_stops_everything_while_halted(btc: Product) -> None:
    reducing = context(order("0.1", Side.SELL), btc, held="0.2", state=TradingState.HALTED)
    assert verdict(checks.kill_switch, reducing) == "halted"
    assert verdict(checks.kill_switch, replace(reducing, state=TradingState.REDUCE_ONLY)) == "pass"


@pytest.mark.parametrize(
    ("held", "side", "size", "expected"),
    [
        ("0", Side.BUY, "0.1", "reduce_only"),  # opening
        ("0.2", Side.BUY, "0.1", "reduce_only"),  # adding
        ("0.2", Side.SELL, "0.1", "pass"),  # shrinking
        ("0.2", Side.SELL, "0.2", "pass"),  # closing exactly
        ("0.2", Side.SELL, "0.20000001", "reduce_only"),  # through zero: a new short
    ],
)
def test_reduce_only_passes_only_what_shrinks(btc: Product, held: str, side: Side, size: str, expected: str) -> None:
    ctx = context(order(size, side), btc, held=held, state=TradingState.REDUCE_ONLY)
    assert verdict(checks.reduce_only, ctx) == expected
    assert verdict(checks.reduce_only, replace(ctx, state=TradingState.ACTIVE)) == "pass"


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (order("0.00001"), "pass"),  # the minimum
        (order("0.00000999"), "below_min_size"),
        (order("3400"), "pass"),
        (order("3400.00000001"), "above_max_size"),
        (order("0.000010001"), "size_increment"),
        (order("0.001", limit_price=D("40000.01")), "pass"),
        (order("0.001", limit_price=D("40000.001")), "price_increment"),
    ],
)
def test_product_rules(btc: Product, request_: OrderRequest, expected: str) -> None:
    # at $200,000 even the minimum size clears the $1 minimum notional
    assert verdict(checks.product_rules, context(request_, btc, price=D(200_000))) == expected


def test_product_minimum_notional(btc: Product) -> None:
    at = context(order("0.000025"), btc)  # 0.000025 x 40,000 = $1.00, the minimum
    assert verdict(checks.product_rules, at) == "pass"
    assert verdict(checks.product_rules, replace(at, price=D("39999.99"))) == "below_min_notional"


@pytest.mark.parametrize(
    ("clock", "expected"),
    [
        ((13, 59, 59), "outside_trading_window"),
        ((14, 0, 0), "pass"),
        ((14, 59, 59), "pass"),
        ((15, 0, 0), "outside_trading_window"),
    ],
)
def test_trading_window(btc: Product, clock: tuple[int, int, int], expected: str) -> None:
    moment = datetime(2026, 11, 24, *clock, tzinfo=UTC)
    assert verdict(checks.trading_window, context(order("0.1"), btc, now=moment, mark_time=moment)) == expected
    # flattening is allowed outside the window
    reducing = context(order("0.1", Side.SELL), btc, held="0.1", now=moment)
    assert verdict(checks.trading_window, reducing) == "pass"


@pytest.mark.parametrize(("age", "expected"), [(29.999, "pass"), (30, "pass"), (30.001, "stale_market_data")])
def test_mark_freshness(btc: Product, age: float, expected: str) -> None:
    ctx = context(order("0.1"), btc, mark_time=NOW - timedelta(seconds=age))
    assert verdict(checks.mark_freshness, ctx) == expected


def test_no_mark_is_refused_but_reducing_on_a_stale_mark_is_not(btc: Product) -> None:
    assert verdict(checks.mark_freshness, context(order("0.1"), btc, mark_time=None)) == "no_mark"
    stale = context(order("0.1", Side.SELL), btc, held="0.1", mark_time=NOW - timedelta(hours=1))
    assert verdict(checks.mark_freshness, stale) == "pass"


@pytest.mark.parametrize(
    ("size", "expected"), [("0.49999999", "pass"), ("0.5", "pass"), ("0.50000001", "max_position_size")]
)
def test_position_size(btc: Product, size: str, expected: str) -> None:
    assert verdict(checks.position_size, context(order(size), btc)) == expected


@pytest.mark.parametrize(
    ("size", "expected"), [("0.24999999", "pass"), ("0.25", "pass"), ("0.25000001", "max_notional")]
)
def test_symbol_notional(btc: Product, size: str, expected: str) -> None:
    # 0.25 BTC x $40,000 = $10,000, BTC-USD's cap
    assert verdict(checks.symbol_notional, context(order(size), btc)) == expected


@pytest.mark.parametrize(
    ("size", "expected"), [("0.49999999", "pass"), ("0.5", "pass"), ("0.50000001", "max_position_fraction")]
)
def test_position_fraction(btc: Product, size: str, expected: str) -> None:
    # equity $40,000; half of it is 0.5 BTC
    assert verdict(checks.position_fraction, context(order(size), btc)) == expected
    assert verdict(checks.position_fraction, context(order(size), btc, equity=D(0))) == "no_equity"


@pytest.mark.parametrize(
    ("size", "expected"), [("0.09999999", "pass"), ("0.1", "pass"), ("0.10000001", "max_exposure")]
)
def test_total_exposure_counts_the_other_positions(btc: Product, size: str, expected: str) -> None:
    eth = Position("ETH-USD", D(5), D(4000), D(4000))  # $20,000 of the $40,000 equity already
    ctx = context(order(size), btc, positions={"ETH-USD": eth})
    assert verdict(checks.total_exposure, ctx) == expected  # 60% of 40,000 = 24,000 = 20,000 + 0.1 BTC


@pytest.mark.parametrize(("contracts", "expected"), [("199", "pass"), ("200", "pass"), ("201", "max_leverage")])
def test_leverage_of_derivatives(btc_future: Product, contracts: str, expected: str) -> None:
    # 200 contracts x 0.01 BTC x $40,000 = $80,000 = 2x the $40,000 equity
    assert verdict(checks.leverage, context(order(contracts, product_id=btc_future.product_id), btc_future)) == expected


@pytest.mark.parametrize(("available", "expected"), [("2000", "pass"), ("1999.99", "insufficient_margin")])
def test_margin_for_futures(btc_future: Product, available: str, expected: str) -> None:
    # 10 contracts add $4,000 of notional; at 2x leverage that needs $2,000 of initial margin
    ctx = context(order("10", product_id=btc_future.product_id), btc_future, available_margin=D(available))
    assert verdict(checks.margin, ctx) == expected


def test_impact_cost_walks_the_book(btc: Product) -> None:
    book = [BookLevel(D(40_000), D("0.1")), BookLevel(D(40_400), D("0.1"))]
    # 0.1 fills at the touch; 0.2 averages 40,200: 50 bps; a little more than 0.2 finds no more depth.
    assert verdict(checks.impact_cost, context(order("0.1"), btc, book=book)) == "pass"
    assert verdict(checks.impact_cost, context(order("0.2"), btc, book=book)) == "pass"
    steeper = [BookLevel(D(40_000), D("0.1")), BookLevel(D("40400.08"), D("0.1"))]
    assert verdict(checks.impact_cost, context(order("0.2"), btc, book=steeper)) == "impact_cost"
    assert verdict(checks.impact_cost, context(order("0.20000001"), btc, book=book)) == "insufficient_depth"
    assert verdict(checks.impact_cost, context(order("0.1"), btc, book=[])) == "no_liquidity"


def test_run_checks_stops_at_the_first_reject(btc: Product) -> None:
    decision = run_checks(context(order("0.6"), btc, state=TradingState.REDUCE_ONLY), LIMITS)
    assert not decision.passed
    assert decision.rejection is not None
    assert decision.rejection.check == "reduce_only"
    assert [r.check for r in decision.results] == ["kill_switch", "unresolved_orders", "spot_inventory", "reduce_only"]
    fine = run_checks(context(order("0.1"), btc), LIMITS)
    assert fine.passed
    assert fine.rejection is None
    assert len(fine.results) == len(checks.CHECKS)


def test_limits_from_a_profile(clean_env: dict[str, str]) -> None:
    from gpttrader.config import load_config

    limits = TradeLimits.from_config(load_config("canary"))
    assert limits.max_notional["BTC-USD"] == D(500)  # the stricter of 500 (profile) and 10,000 (limits file)
    assert limits.max_size["BTC-USD"] == D("0.01")
    assert limits.max_mark_age_seconds == D(30)
    assert limits.trading_window == TradingWindow(start=time(14), end=time(15))


def test_an_order_of_unknown_fate_blocks_its_product_only(btc: Product) -> None:
    eth = replace(btc, product_id="ETH-USD", base_currency="ETH")
    lost = OrderRequest("lost-1", "BTC-USD", Side.BUY, OrderType.MARKET, D("0.5"))
    blocked = context(order("0.1"), btc, unresolved=(lost,))
    assert verdict(checks.unresolved_orders, blocked) == "order_fate_unknown"
    assert "lost-1" in checks.unresolved_orders(blocked, LIMITS).message
    reducing = context(order("0.1", Side.SELL), btc, held="0.2", unresolved=(lost,))
    assert verdict(checks.unresolved_orders, reducing) == "order_fate_unknown"  # it may have sold already
    other = context(order("0.1", product_id="ETH-USD"), eth, unresolved=(lost,))
    assert verdict(checks.unresolved_orders, other) == "pass"


def test_a_spot_sell_below_zero_is_refused_before_sending(btc: Product) -> None:
    assert verdict(checks.spot_inventory, context(order("0.3", Side.SELL), btc, held="0.2")) == "spot_short"
    assert verdict(checks.spot_inventory, context(order("0.2", Side.SELL), btc, held="0.2")) == "pass"
    assert verdict(checks.spot_inventory, context(order("0.01", Side.SELL), btc)) == "spot_short"
