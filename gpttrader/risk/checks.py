"""Pre-trade validation: synchronous checks an order must pass before it is sent, each a pure function
that returns a pass or a reject with a reason code.

An order that only shrinks a position is never stopped by a limit, a window, the order rate or stale data
(getting smaller is always allowed); it is still held to the product's grid, and nothing passes while halted.

The order-rate limits (`order_rate`, `order_interval`) count the orders the bot decided and sent. Two kinds
of order never pass these checks at all and are not counted: the kill switch's flattens, which go straight
to the executor (`engine.kill`), since a halt must be able to close every position however many orders it
takes, and the exits of an entry (`ExecutionCoordinator._protect`), placed straight through the executor,
since they can only shrink the position they protect and holding one back would leave it unprotected.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property

from gpttrader.domain import BookLevel, OrderRequest, Position, Product, ProductType, Side
from gpttrader.risk.limits import TradeLimits
from gpttrader.risk.state import TradingState

BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: str
    passed: bool
    reason: str = ""
    message: str = ""


@dataclass(frozen=True)
class TradeContext:
    """Everything a check may look at: the order, its product, the price it is expected to trade at, the
    account (equity and positions at their marks), the trading state and, when known, the mark's age, the
    side of the book the order would take and the margin available (futures)."""

    order: OrderRequest
    product: Product
    price: Decimal
    equity: Decimal
    positions: Mapping[str, Position]
    state: TradingState
    now: datetime
    mark_time: datetime | None = None
    book: Sequence[BookLevel] | None = None
    available_margin: Decimal | None = None
    # Orders of unknown fate (sent, never answered): the venue may hold them. `positions` already counts
    # each as filled where that makes a position larger; this list blocks new orders of their products.
    unresolved: Sequence[OrderRequest] = ()
    # When each order the bot decided and sent went out, within the longest order-rate window before `now`
    # (`TradeLimits.order_rate.lookback`): read from the orders store live, so a restart does not reset the
    # count, and from the simulated orders on the simulated clock in a backtest. An order the checks refused
    # was never sent and is not here; nor are exits, the kill switch's flattens or an operator's orders.
    sent_at: Sequence[datetime] = ()

    @cached_property
    def current(self) -> Decimal:
        position = self.positions.get(self.order.product_id)
        return position.size if position else Decimal(0)

    @cached_property
    def after(self) -> Decimal:
        signed = self.order.size if self.order.side is Side.BUY else -self.order.size
        return self.current + signed

    @cached_property
    def reducing(self) -> bool:
        return is_reducing(self.current, self.after - self.current)

    def notional(self, size: Decimal) -> Decimal:
        return abs(size) * self.price * self.product.multiplier

    def other_exposure(self, *, derivatives_only: bool = False) -> Decimal:
        return sum(
            (
                p.notional
                for pid, p in self.positions.items()
                if pid != self.order.product_id and (not derivatives_only or p.product_type is not ProductType.SPOT)
            ),
            Decimal(0),
        )


def is_reducing(current: Decimal, change: Decimal) -> bool:
    """True when `change` only moves the position `current` toward zero (not through it)."""
    after = current + change
    return current != 0 and abs(after) < abs(current) and (after == 0 or (after > 0) == (current > 0))


Check = Callable[[TradeContext, TradeLimits], CheckResult]


def _ok(name: str) -> CheckResult:
    return CheckResult(name, True)


def _reject(name: str, reason: str, message: str) -> CheckResult:
    return CheckResult(name, False, reason, message)


def kill_switch(ctx: TradeContext, limits: TradeLimits) -> CheckResult:
    if ctx.state is TradingState.HALTED:
        return _reject("kill_switch", "halted", "trading is halted; an operator must resume it")
    return _ok("kill_switch")


def unresolved_orders(ctx: TradeContext, limits: TradeLimits) -> CheckResult:
    """No new order for a product while one of its orders is of unknown fate: whatever this one would do
    could double what that one may already have done."""
    mine = [o.client_order_id for o in ctx.unresolved if o.product_id == ctx.order.product_id]
    if mine:
        return _reject(
            "unresolved_orders",
            "order_fate_unknown",
            f"{ctx.order.product_id}: order {', '.join(mine)} was sent without a definite answer; no new order "
            "until the exchange shows what became of it",
        )
    return _ok("unresolved_orders")


def spot_inventory(ctx: TradeContext, limits: TradeLimits) -> CheckResult:
    """A spot sell can only sell what is held: one that would take the position below zero is refused
    before it is sent, whatever the strategy or the books believed."""
    if ctx.product.product_type is ProductType.SPOT and ctx.after < 0:
        return _reject(
            "spot_inventory",
            "spot_short",
            f"{ctx.order.product_id}: selling {ctx.order.size} would take the position from {ctx.current} to "
            f"{ctx.after}; a spot position cannot be short",
        )
    return _ok("spot_inventory")


def reduce_only(ctx: TradeContext, limits: TradeLimits) -> CheckResult:
    if ctx.state is TradingState.REDUCE_ONLY and not ctx.reducing:
        return _reject(
            "reduce_only",
            "reduce_only",
            f"reduce-only mode: {ctx.order.side} {ctx.order.size} would take {ctx.order.product_id} "
            f"from {ctx.current} to {ctx.after}",
        )
    return _ok("reduce_only")


def product_rules(ctx: TradeContext, limits: TradeLimits) -> CheckResult:
    order, product = ctx.order, ctx.product
    name = "product_rules"
    if order.size < product.base_min_size:
        return _reject(name, "below_min_size", f"size {order.size} is below the minimum {product.base_min_size}")
    if order.size > product.base_max_size:
        return _reject(name, "above_max_size", f"size {order.size} is above the maximum {product.base_max_size}")
    if order.size % product.base_increment:
        return _reject(name, "size_increment", f"size {order.size} is not a multiple of {product.base_increment}")
    for price in (order.limit_price, order.stop_price):
        if price is not None and price % product.quote_increment:
            return _reject(name, "price_increment", f"price {price} is not a multiple of {product.quote_increment}")
    if order.size * ctx.price < product.quote_min_size:
        return _reject(
            name, "below_min_notional", f"notional {order.size * ctx.price} is below {product.quote_min_size}"
        )
    return _ok(name)


def trading_window(ctx: TradeContext, limits: TradeLimits) -> CheckResult:
    window = limits.trading_window
    if window is not None and not ctx.reducing and not window.contains(ctx.now):
        return _reject(
            "trading_window",
            "outside_trading_window",
            f"{ctx.now:%H:%M:%S} UTC is outside the trading window {window.start:%H:%M}-{window.end:%H:%M}",
        )
    return _ok("trading_window")


def order_rate(ctx: TradeContext, limits: TradeLimits) -> CheckResult:
    """At most `per_minute` (`per_hour`, `per_day`) orders in the minute (hour, day) before this one, the
    order at the window's far end included. An order that only shrinks a position passes whatever the count
    (the limits stop a runaway strategy from piling up risk and fees; an order that can only make a position
    smaller is never the one to hold back), though it counts toward the next, since it was sent."""
    if ctx.reducing:
        return _ok("order_rate")
    for name, span, cap in limits.order_rate.windows():
        count = sum(1 for sent in ctx.sent_at if ctx.now - sent <= span)
        if count >= cap:
            return _reject(
                "order_rate",
                f"rate_per_{name}",
                f"{count} orders sent in the last {name} (limit {cap} per {name}, order_limits.per_{name}); "
                f"{ctx.order.client_order_id} would be number {count + 1}",
            )
    return _ok("order_rate")


def order_interval(ctx: TradeContext, limits: TradeLimits) -> CheckResult:
    """No order sooner than `min_interval` after the last one sent; an order that only shrinks a position
    passes (as for `order_rate`)."""
    interval = limits.order_rate.min_interval
    if ctx.reducing or not interval or not ctx.sent_at:
        return _ok("order_interval")
    elapsed = ctx.now - max(ctx.sent_at)
    if elapsed < interval:
        return _reject(
            "order_interval",
            "min_interval",
            f"{elapsed.total_seconds():g} s since the last order, sent at {max(ctx.sent_at):%H:%M:%S} UTC "
            f"(at least {interval.total_seconds():g} s apart, order_limits.min_interval_seconds)",
        )
    return _ok("order_interval")


def mark_freshness(ctx: TradeContext, limits: TradeLimits) -> CheckResult:
    limit = limits.max_mark_age_seconds
    if limit is None or ctx.reducing:
        return _ok("mark_freshness")
    if ctx.mark_time is None:
        return _reject("mark_freshness", "no_mark", f"no mark for {ctx.order.product_id} yet")
    age = Decimal(str((ctx.now - ctx.mark_time).total_seconds()))
    if age > limit:
        return _reject("mark_freshness", "stale_market_data", f"the mark is {age} s old (limit {limit} s)")
    return _ok("mark_freshness")


def position_size(ctx: TradeContext, limits: TradeLimits) -> CheckResult:
    cap = limits.max_size.get(ctx.order.product_id)
    if cap is not None and not ctx.reducing and abs(ctx.after) > cap:
        return _reject("position_size", "max_position_size", f"position {ctx.after} would exceed {cap}")
    return _ok("position_size")


def symbol_notional(ctx: TradeContext, limits: TradeLimits) -> CheckResult:
    cap = limits.max_notional.get(ctx.order.product_id)
    if cap is not None and not ctx.reducing and ctx.notional(ctx.after) > cap:
        return _reject("symbol_notional", "max_notional", f"notional {ctx.notional(ctx.after):.2f} would exceed {cap}")
    return _ok("symbol_notional")


def _share(ctx: TradeContext, amount: Decimal) -> Decimal | None:
    return None if ctx.equity <= 0 else amount / ctx.equity


def position_fraction(ctx: TradeContext, limits: TradeLimits) -> CheckResult:
    if ctx.reducing:
        return _ok("position_fraction")
    share = _share(ctx, ctx.notional(ctx.after))
    if share is None:
        return _reject("position_fraction", "no_equity", f"equity is {ctx.equity}")
    if share > limits.max_position_fraction:
        return _reject(
            "position_fraction",
            "max_position_fraction",
            f"the position would be {share:.4f} of equity (limit {limits.max_position_fraction})",
        )
    return _ok("position_fraction")


def total_exposure(ctx: TradeContext, limits: TradeLimits) -> CheckResult:
    if ctx.reducing:
        return _ok("total_exposure")
    share = _share(ctx, ctx.other_exposure() + ctx.notional(ctx.after))
    if share is not None and share > limits.max_exposure_fraction:
        return _reject(
            "total_exposure",
            "max_exposure",
            f"gross exposure would be {share:.4f} of equity (limit {limits.max_exposure_fraction})",
        )
    return _ok("total_exposure")


def leverage(ctx: TradeContext, limits: TradeLimits) -> CheckResult:
    if ctx.reducing or not ctx.product.is_derivative:
        return _ok("leverage")
    share = _share(ctx, ctx.other_exposure(derivatives_only=True) + ctx.notional(ctx.after))
    cap = limits.leverage_for(ctx.order.product_id)
    if share is not None and share > cap:
        return _reject("leverage", "max_leverage", f"leverage would be {share:.2f}x (limit {cap}x)")
    return _ok("leverage")


def margin(ctx: TradeContext, limits: TradeLimits) -> CheckResult:
    if ctx.reducing or not ctx.product.is_derivative or ctx.available_margin is None:
        return _ok("margin")
    added = ctx.notional(ctx.after) - ctx.notional(ctx.current)
    required = max(added, Decimal(0)) / limits.leverage_for(ctx.order.product_id)
    if required > ctx.available_margin:
        return _reject(
            "margin",
            "insufficient_margin",
            f"initial margin {required:.2f} exceeds the available {ctx.available_margin}",
        )
    return _ok("margin")


def impact_cost(ctx: TradeContext, limits: TradeLimits) -> CheckResult:
    """Walk the book the order would take: the average price against the touch, in basis points."""
    if ctx.book is None or ctx.reducing:
        return _ok("impact_cost")
    if not ctx.book:
        return _reject("impact_cost", "no_liquidity", f"the book for {ctx.order.product_id} is empty")
    remaining, cost = ctx.order.size, Decimal(0)
    for level in ctx.book:
        take = min(remaining, level.size)
        cost += take * level.price
        remaining -= take
        if remaining == 0:
            break
    if remaining > 0:
        return _reject(
            "impact_cost", "insufficient_depth", f"the book holds only {ctx.order.size - remaining} of {ctx.order.size}"
        )
    touch = ctx.book[0].price
    impact = abs(cost / ctx.order.size - touch) / touch * BPS
    if impact > limits.max_impact_bps:
        return _reject("impact_cost", "impact_cost", f"impact {impact:.1f} bps exceeds {limits.max_impact_bps} bps")
    return _ok("impact_cost")


CHECKS: tuple[Check, ...] = (
    kill_switch,
    unresolved_orders,
    spot_inventory,
    reduce_only,
    product_rules,
    trading_window,
    order_rate,
    order_interval,
    mark_freshness,
    position_size,
    symbol_notional,
    position_fraction,
    total_exposure,
    leverage,
    margin,
    impact_cost,
)


@dataclass(frozen=True)
class PreTradeDecision:
    results: tuple[CheckResult, ...]
    passed: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "passed", all(r.passed for r in self.results))

    @property
    def rejection(self) -> CheckResult | None:
        return next((r for r in self.results if not r.passed), None)


def run_checks(ctx: TradeContext, limits: TradeLimits) -> PreTradeDecision:
    """Every check in order, stopping at the first reject (the later ones would only add noise)."""
    results: list[CheckResult] = []
    for check in CHECKS:
        results.append(check(ctx, limits))
        if not results[-1].passed:
            break
    return PreTradeDecision(tuple(results))
