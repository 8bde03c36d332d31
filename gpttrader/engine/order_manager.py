"""The rules of working orders, in one copy that live and the backtest both apply.

Live applies them over the stores and a broker (`engine.execution_coordinator`, `engine.exits`), the
backtest over its in-memory book and the fill model (`backtest.runner`); each caller does its own I/O (send,
cancel, record) and asks these rules what to do. So the two cannot drift apart: a target is pursued, an
entry expires, an exit covers what its entry filled, and a trading state stops orders, by the same code.

- **Pursuit.** A target is turned into a goal (a signed size) when it changes; on every bar after, the
  difference between the goal and the position plus the orders still working toward it is ordered, so an
  order that the risk manager refused, the exchange rejected, the network lost or an IOC that expired
  unfilled is tried again while the strategy keeps the target. The goal is fixed when the target changes,
  not recomputed each bar: equity drifts with every tick, and chasing it would trade crumbs. A buy cut to the
  cash there is sets the goal to what can be paid for. After an attempt that placed nothing, the next waits
  1, 2, 4, 8 then every 16 bars; but one the trading state refused (reduce-only, halted: the same order would
  be refused again as long as the state holds) waits for the state to change instead, tried on the first bar
  after.
- **Expiry.** A limit entry with `expire_bars` works on that many bars after the one it was decided on, and
  stops once the last of them has closed (by time, so a bar missing from the history does not stretch it).
- **Exits.** An entry's bracket covers each part of it as it fills, with an exit of its own, at most what the
  position holds beside the orders already working on the exit's side, and only once that reaches the
  product's minimum (Coinbase attaches nothing smaller).
- **Trading state.** Reduce-only and halted refuse new exposure; they also stop the orders already working
  toward it (a resting buy filling under reduce-only would grow the position the state protects). What
  shrinks the position (an exit, a sell of what is held) keeps working in both: cancelling a stop-loss makes
  nothing safer. Flattening is the kill switch's.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from gpttrader.domain import OrderRequest, OrderType, Product, ProductType, Side
from gpttrader.domain.quantize import quantize_price, quantize_size
from gpttrader.engine.decisions import negligible, orderable_change
from gpttrader.risk import TradingState
from gpttrader.risk.checks import is_reducing
from gpttrader.strategy import OrderIntent

RETRY_BARS = (1, 2, 4, 8, 16)


@dataclass
class Pursuit:
    target: float
    goal: Decimal | None  # None until it can be worked out (an order of its product was of unknown fate)
    failures: int = 0  # attempts in a row that placed nothing
    retry_at: datetime | None = None  # the first bar an attempt may be made again
    unmet_since: datetime | None = None  # the first bar after which the position was not the goal
    held_by: str | None = None  # the trading state that refused the last attempt

    @property
    def waiting(self) -> bool:
        """Whether an attempt failed and the next must wait (for its bar, or for the state to change)."""
        return self.held_by is not None or self.retry_at is not None

    def next_change(
        self,
        *,
        held: Decimal,
        product: Product,
        goal_of: Callable[[], Decimal],
        bar_time: datetime,
        state: TradingState,
        spendable: Decimal,
        spend_price: Decimal,
        fee_rate: Decimal,
    ) -> Decimal | None:
        """The signed size to order on the bar of `bar_time`, from `held` (the position plus what still works
        toward the goal) toward the goal, or None when nothing is to be ordered now. `goal_of` gives the
        signed size the target means, asked only when the target has just changed; a buy never spends more
        than `spendable` at `spend_price`, fee included."""
        if self.goal is None:
            spot = product.product_type is ProductType.SPOT
            # A short on spot is flat: no sizing to ask for (the fast path meets many such bars).
            self.goal = Decimal(0) if spot and self.target <= 0 else goal_of()
        if not self.may_try(bar_time, state.value):
            return None
        gap = self.goal - held
        if negligible(gap, product):
            self.settle()
            return None
        signed = orderable_change(
            product=product, change=gap, spendable=spendable, spend_price=spend_price, fee_rate=fee_rate
        )
        if not signed:  # what is left cannot be paid for: the goal is what there is
            self.goal = held
            self.settle()
            return None
        if abs(signed) < abs(gap) and not negligible(gap - signed, product):
            self.goal = held + signed  # cut to the cash there is: chasing the rest would trade crumbs
        return signed

    def after(
        self,
        bar_time: datetime,
        bar: timedelta,
        *,
        placed: bool,
        state: TradingState,
        position: Decimal,
        change: Decimal,
    ) -> None:
        """After an attempt to order `change` with `position` held: the backoff, or the state it waits for."""
        if placed:
            self.failures, self.retry_at = 0, None
        elif (held_by := held_by_state(state, position, change)) is not None:
            self.held_by, self.retry_at = held_by, None
        else:
            self.failures += 1
            self.retry_at = bar_time + bar * RETRY_BARS[min(self.failures, len(RETRY_BARS)) - 1]

    def may_try(self, bar_time: datetime, state: str) -> bool:
        if self.held_by is not None:
            if state == self.held_by:
                return False
            self.held_by, self.failures, self.retry_at = None, 0, None  # the state moved: try at once
            return True
        return self.retry_at is None or bar_time >= self.retry_at

    def settle(self) -> None:
        """Nothing is left to pursue (the goal is held, or what is left cannot be ordered): no wait stands."""
        self.failures, self.retry_at, self.held_by = 0, None, None

    def observe(self, bar_time: datetime, met: bool) -> None:
        if met:
            self.unmet_since = None
        elif self.unmet_since is None:
            self.unmet_since = bar_time

    def unmet_bars(self, bar_time: datetime, bar: timedelta) -> int:
        """Bars, this one included, after which the position was not the goal."""
        if self.unmet_since is None:
            return 0
        return int((bar_time - self.unmet_since) / bar) + 1


def held_by_state(state: TradingState, held: Decimal, change: Decimal) -> str | None:
    """The trading state that refuses an order changing a position `held` by `change`, if it does."""
    if state is TradingState.HALTED or (state is TradingState.REDUCE_ONLY and not is_reducing(held, change)):
        return state.value
    return None


def stopped_by(
    state: TradingState,
    position: Decimal,
    orders: Sequence[tuple[Side, Decimal]],
    *,
    kept: Sequence[tuple[Side, Decimal]] = (),
) -> list[bool]:
    """Which of a product's working orders (side, what is left to fill; oldest first) stop under `state`:
    under reduce-only or halted, every one that, filled after those kept before it, would not shrink the
    position toward flat. `kept` are the orders that never stop (the exits, those that cannot be cancelled):
    what they may take out of the position comes first. Judged together, not one by one: two sells that each
    shrink a long alone may flip it short together."""
    if state is TradingState.ACTIVE:
        return [False] * len(orders)
    closing = Side.SELL if position > 0 else Side.BUY
    room = abs(position) - sum((left for side, left in kept if side is closing), Decimal(0))
    stops = []
    for side, remaining in orders:
        fits = side is closing and position != 0 and remaining <= room
        room -= remaining if fits else Decimal(0)
        stops.append(not fits)
    return stops


def entry_expiry(decided_on: datetime, bar: timedelta, expire_bars: int | None) -> datetime | None:
    """When an entry decided on the bar opening at `decided_on` stops working: once the last of its
    `expire_bars` bars after that one has closed (None: it works until filled or replaced)."""
    return None if expire_bars is None else decided_on + bar * (expire_bars + 1)


@dataclass(frozen=True, slots=True)
class ExitPlan:
    """An entry's bracket, at the prices the strategy asked for (put on the grid when an exit is made)."""

    take_profit: Decimal
    stop_loss: Decimal

    @classmethod
    def of(cls, intent: OrderIntent) -> "ExitPlan | None":
        if intent.exits is None:
            return None
        take, stop = (Decimal(repr(price)) for price in intent.exits)
        return cls(take, stop)

    def limit(self, product: Product, entry_side: Side) -> Decimal:
        """The exit's limit (its take-profit, on the grid toward the passive side)."""
        return quantize_price(self.take_profit, product, entry_side.opposite)

    def order(self, client_order_id: str, product: Product, entry_side: Side, size: Decimal) -> OrderRequest:
        """The exit covering `size` of an entry on `entry_side`: a reduce-only bracket on the other side."""
        side = entry_side.opposite
        return OrderRequest(
            client_order_id,
            product.product_id,
            side,
            OrderType.BRACKET,
            size,
            self.limit(product, entry_side),
            quantize_price(self.stop_loss, product, side),
            reduce_only=True,
        )


def exit_size(uncovered: Decimal, room: Decimal, product: Product, limit: Decimal) -> Decimal:
    """The size of the exit to place now for what of an entry filled and no exit covers yet (`uncovered`),
    where the position leaves `room` beside the orders working on the exit's side: on the grid, and 0 while
    it is under the product's minimum size or, at the exit's `limit`, under its minimum order value (the
    checks the order would fail before it is sent: more may fill; what never will is dust no order carries)."""
    size = quantize_size(min(uncovered, room), product)
    if size <= 0 or size < product.base_min_size or size * limit * product.multiplier < product.quote_min_size:
        return Decimal(0)
    return size
