"""A simulated exchange account: orders, holds, fills and balances under the shared fill model.

The deterministic broker (dev) and the paper broker wrap it with their market data; the backtest uses
the fill model directly. Like Coinbase it is idempotent on the client order id (placing the same id again
returns the order already placed), holds the funds a resting order could spend, and reports unknown
orders as not found.

Timing follows the backtest: an order decided at a bar's close and sent at once meets the market at the
next bar's open, which is the quote `place` is given; what rests is then worked against each bar that
closes after it was placed (`work`).

Like Coinbase's feed, it tells its streams (`events`) of every change to an order as it makes it: an
order update after each change of status, size or filled size, and each fill, with the market trade it
made, once booked (gpttrader.brokers.simulated.events).
"""

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from gpttrader.brokers.errors import InsufficientFundsError, InvalidOrderError, NotFoundError
from gpttrader.brokers.protocol import MarginSummary, OrderPreview
from gpttrader.brokers.simulated.events import VenueEvents
from gpttrader.brokers.simulated.fills import Execution, FillModel, reducible
from gpttrader.domain import (
    Balance,
    Candle,
    Fill,
    Liquidity,
    Order,
    OrderRejected,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Product,
    Quote,
    Side,
    TimeInForce,
    prepare_order,
    roll_position,
)
from gpttrader.domain.funding import accrue_funding, funding_payment, opens_funding_interval, pays_funding
from gpttrader.domain.stream import FillEvent, OrderUpdateEvent, TradeEvent


@dataclass
class VenuePosition:
    """A futures or perpetual position, in contracts; its margin and PnL are in the product's quote currency."""

    size: Decimal = Decimal(0)
    entry_price: Decimal = Decimal(0)
    realized_pnl: Decimal = Decimal(0)
    funding: Decimal = Decimal(0)  # charged in total, settled or not
    accrued_funding: Decimal = Decimal(0)  # a perpetual-style future's, until it settles (domain.funding)


@dataclass
class VenueState:
    """Everything the venue knows, as plain values, so that a paper account can be saved and reloaded."""

    balances: dict[str, Decimal]
    orders: dict[str, Order] = field(default_factory=dict)  # by exchange order id
    holds: dict[str, Decimal] = field(default_factory=dict)  # by exchange order id, in the held currency
    triggered: set[str] = field(default_factory=set)  # stop orders whose stop has fired
    fills: list[Fill] = field(default_factory=list)
    sequence: int = 0
    positions: dict[str, VenuePosition] = field(default_factory=dict)  # derivatives only
    marks: dict[str, Decimal] = field(default_factory=dict)  # the last price seen per product
    funded: dict[str, datetime] = field(default_factory=dict)  # the last funding bar per perpetual

    @classmethod
    def restore(cls, saved: Mapping[str, Any]) -> "VenueState":
        """The state from its saved plain values (`VenueStore.load`)."""
        positions = {pid: VenuePosition(**held) for pid, held in saved.get("positions", {}).items()}
        return cls(**{**saved, "positions": positions})


class SimulatedVenue:
    def __init__(
        self,
        products: Mapping[str, Product],
        model: FillModel,
        state: VenueState,
        clock: Callable[[], datetime],
        *,
        name: str = "sim",
        on_change: Callable[[VenueState], None] | None = None,
        margin_rate: Decimal = Decimal("0.10"),
    ) -> None:
        """`margin_rate`: the initial margin of a derivatives position as a share of its notional (10x
        leverage at most); the maintenance margin is half of it."""
        self.products = dict(products)
        self.model = model
        self.state = state
        self.clock = clock
        self.name = name
        self._on_change = on_change
        self.margin_rate = margin_rate
        self._lock = threading.RLock()
        self.events = VenueEvents(clock)

    # -- orders ------------------------------------------------------------------------------------------
    def place(self, request: OrderRequest, quote: Quote) -> Order:
        with self._lock:
            existing = self._by_client_id(request.client_order_id)
            if existing is not None:
                return existing
            product = self._product(request.product_id)
            self.state.marks[product.product_id] = quote.mid
            try:
                prepared = prepare_order(request, product, reference_price=quote.ask)
            except OrderRejected as exc:
                raise InvalidOrderError(exc.message, exc.reason) from None
            hold_currency, hold = self._hold_for(prepared, product, quote)
            if hold > self._available(hold_currency):
                raise InsufficientFundsError(
                    f"{prepared.client_order_id}: needs {hold} {hold_currency}, "
                    f"{self._available(hold_currency)} available",
                    "INSUFFICIENT_FUND",
                )
            now = self.clock()
            self.state.sequence += 1
            order_id = f"{self.name}-{self.state.sequence:08d}"
            order = Order(prepared, OrderStatus.OPEN, now, now, order_id)
            self.state.orders[order_id] = order
            self.state.holds[order_id] = hold
            self._report(order_id)
            if prepared.order_type in (OrderType.MARKET, OrderType.LIMIT):
                # Meets the market now: the quote stands for the open of the bar it arrives in.
                side_price = quote.ask if prepared.side is Side.BUY else quote.bid
                at_touch = Candle(
                    prepared.product_id, now, side_price, side_price, side_price, side_price, Decimal(10**12)
                )
                self._apply(order_id, at_touch, resting=False)
            immediate = prepared.time_in_force in (TimeInForce.IOC, TimeInForce.FOK)
            if immediate and not self.state.orders[order_id].is_terminal:
                self._finish(order_id, OrderStatus.CANCELLED)  # what did not fill at once is not left working
            self._changed()
            return self.state.orders[order_id]

    def work(self, candle: Candle, span: timedelta = timedelta(minutes=1)) -> None:
        """Give every order resting on `candle`'s product that bar (`span` long), from the bar it was placed
        in on: as in the backtest, an order sent at a bar's open works against that whole bar."""
        with self._lock:
            self.state.marks[candle.product_id] = candle.close
            self._fund(candle)
            for order_id, order in list(self.state.orders.items()):
                if order.is_terminal or order.product_id != candle.product_id or candle.time + span <= order.created_at:
                    continue
                self._apply(order_id, candle, resting=True)
            self._changed()

    def cancel(self, order_ids: list[str]) -> dict[str, bool]:
        with self._lock:
            done = {}
            for order_id in order_ids:
                order = self.state.orders.get(order_id)
                done[order_id] = order is not None and not order.is_terminal
                if done[order_id]:
                    self._finish(order_id, OrderStatus.CANCELLED)
            self._changed()
            return done

    def edit(self, order_id: str, *, size: Decimal, limit_price: Decimal) -> Order:
        with self._lock:
            order = self.order(order_id)
            if order.is_terminal or order.request.order_type is not OrderType.LIMIT:
                raise InvalidOrderError(f"order {order_id} cannot be edited (only an open limit order can)")
            if size <= order.filled_size:
                raise InvalidOrderError(f"size {size} is not above the filled {order.filled_size}")
            product = self._product(order.product_id)
            request = prepare_order(order.request.with_prices(size, limit_price, None), product)
            self.state.orders[order_id] = replace(order, request=request, updated_at=self.clock())
            self._report(order_id)
            self._changed()
            return self.state.orders[order_id]

    def preview(self, request: OrderRequest, quote: Quote) -> OrderPreview:
        product = self._product(request.product_id)
        errors: list[str] = []
        try:
            prepared = prepare_order(request, product, reference_price=quote.ask)
        except OrderRejected as exc:
            return OrderPreview(request.product_id, Decimal(0), request.size, Decimal(0), Decimal(0), (exc.reason,))
        currency, hold = self._hold_for(prepared, product, quote)
        if hold > self._available(currency):
            errors.append("INSUFFICIENT_FUND")
        price = prepared.limit_price or (quote.ask if prepared.side is Side.BUY else quote.bid)
        notional = price * prepared.size * product.multiplier
        commission = self.model.fees.fee(notional, Liquidity.TAKER)
        return OrderPreview(request.product_id, notional, prepared.size, commission, Decimal(0), tuple(errors))

    # -- reading -----------------------------------------------------------------------------------------
    def order(self, order_id: str) -> Order:
        with self._lock:
            found = self.state.orders.get(order_id)
            if found is None:
                raise NotFoundError(f"no order {order_id}")
            return found

    def orders(self, product_id: str | None = None, *, open_only: bool = False) -> list[Order]:
        with self._lock:
            return [
                o
                for o in self.state.orders.values()
                if (product_id is None or o.product_id == product_id) and not (open_only and o.is_terminal)
            ]

    def fills(self, *, order_id: str | None = None, product_id: str | None = None) -> list[Fill]:
        with self._lock:
            return [
                f
                for f in self.state.fills
                if (order_id is None or f.order_id == order_id) and (product_id is None or f.product_id == product_id)
            ]

    def positions(self) -> list[Position]:
        with self._lock:
            return [
                Position(
                    pid,
                    held.size,
                    held.entry_price,
                    self.state.marks.get(pid, held.entry_price),
                    held.realized_pnl,
                    self.products[pid].product_type,
                    self.products[pid].multiplier,
                )
                for pid, held in self.state.positions.items()
                if held.size and pid in self.products
            ]

    def margin_summary(self) -> MarginSummary | None:
        """The derivatives account, margined in the quote currency of the derivatives traded (None for a
        spot-only venue). The liquidation buffer is what is left above the maintenance margin."""
        with self._lock:
            currencies = {p.quote_currency for p in self.products.values() if p.is_derivative}
            if not currencies:
                return None
            currency = sorted(currencies)[0]
            unrealized, used = self._margin(currency)
            total = self.state.balances.get(currency, Decimal(0)) + unrealized
            available = self._available(currency)
            return MarginSummary(total, available, used, available, unrealized, total - used / 2)

    def balances(self) -> list[Balance]:
        with self._lock:
            held = self._held()
            return [
                Balance(currency, total - held.get(currency, Decimal(0)), held.get(currency, Decimal(0)))
                for currency, total in sorted(self.state.balances.items())
            ]

    # -- pieces ------------------------------------------------------------------------------------------
    def _product(self, product_id: str) -> Product:
        product = self.products.get(product_id)
        if product is None:
            raise NotFoundError(f"unknown product {product_id}")
        return product

    def _by_client_id(self, client_order_id: str) -> Order | None:
        return next((o for o in self.state.orders.values() if o.client_order_id == client_order_id), None)

    def _hold_currency(self, request: OrderRequest) -> str:
        product = self.products[request.product_id]
        if product.is_derivative or request.side is Side.BUY:
            return product.quote_currency
        return product.base_currency

    def _hold_for(self, request: OrderRequest, product: Product, quote: Quote) -> tuple[str, Decimal]:
        """What a spot order may spend: quote currency at its worst price plus the taker fee for a buy, the
        base currency for a sell."""
        currency = self._hold_currency(request)
        if product.is_derivative:
            # The initial margin of what the order adds to the position, and its fee.
            price = request.limit_price or (quote.ask if request.side is Side.BUY else quote.bid)
            held = self.state.positions.get(product.product_id, VenuePosition()).size
            after = held + (request.size if request.side is Side.BUY else -request.size)
            added = Decimal(0) if request.reduce_only else max(abs(after) - abs(held), Decimal(0))
            notional = price * product.multiplier
            return currency, added * notional * self.margin_rate + request.size * notional * self.model.fees.taker
        if request.side is Side.SELL:
            return currency, request.size
        price = request.limit_price or quote.ask * (1 + self.model.slippage_bps / Decimal(10_000))
        return currency, price * request.size * (1 + self.model.fees.taker)

    def _held(self) -> dict[str, Decimal]:
        """What the open orders hold, per currency."""
        held: dict[str, Decimal] = {}
        for order_id, amount in self.state.holds.items():
            currency = self._hold_currency(self.state.orders[order_id].request)
            held[currency] = held.get(currency, Decimal(0)) + amount
        return held

    def _available(self, currency: str) -> Decimal:
        unrealized, used = self._margin(currency)
        held = self._held().get(currency, Decimal(0))
        return self.state.balances.get(currency, Decimal(0)) + unrealized - used - held

    def _margin(self, currency: str) -> tuple[Decimal, Decimal]:
        """Unrealized PnL and initial margin of the derivatives positions margined in `currency`."""
        unrealized = used = Decimal(0)
        for pid, held in self.state.positions.items():
            product = self.products.get(pid)
            if product is None or product.quote_currency != currency or not held.size:
                continue
            mark = self.state.marks.get(pid, held.entry_price)
            unrealized += (mark - held.entry_price) * held.size * product.multiplier
            used += abs(held.size) * mark * product.multiplier * self.margin_rate
        return unrealized, used

    def _fund(self, candle: Candle) -> None:
        """A perpetual or perpetual-style position held into a bar that opens an hour pays its funding, into
        the balance when it settles: hourly for a perpetual, twice a day for a perpetual-style future
        (gpttrader.domain.funding: the rule every venue and the backtest charge)."""
        product = self.products.get(candle.product_id)
        held = self.state.positions.get(candle.product_id)
        if product is None or held is None or not (held.size or held.accrued_funding) or not pays_funding(product):
            return
        funded = self.state.funded.get(product.product_id)
        if not opens_funding_interval(candle.time) or (funded is not None and candle.time <= funded):
            return
        payment = funding_payment(held.size, candle.close, product.multiplier, self.model.funding_rate_per_hour)
        held.funding += payment
        held.accrued_funding, settled = accrue_funding(held.accrued_funding, payment, product, candle.time)
        currency = product.quote_currency
        self.state.balances[currency] = self.state.balances.get(currency, Decimal(0)) - settled
        self.state.funded[product.product_id] = candle.time

    def _apply(self, order_id: str, candle: Candle, *, resting: bool) -> None:
        order = self.state.orders[order_id]
        product = self.products[order.product_id]
        remaining = self._fillable(order, product)
        if remaining <= 0:  # a reduce-only order with nothing left to reduce could only open the reverse
            self._finish(order_id, OrderStatus.CANCELLED)
            return
        outcome = self.model.fill(
            order.request,
            candle,
            product,
            remaining=remaining,
            resting=resting,
            triggered=order_id in self.state.triggered,
        )
        if outcome.triggered:
            self.state.triggered.add(order_id)
        if outcome.execution is not None:
            self._book(order_id, outcome.execution, product)

    def _fillable(self, order: Order, product: Product) -> Decimal:
        """What may fill now: the rest of the order, and for a reduce-only derivatives order no more than
        takes the position to flat (a spot sell cannot go short: nothing to cap)."""
        if not (order.request.reduce_only and product.is_derivative):
            return order.remaining_size
        held = self.state.positions.get(product.product_id, VenuePosition()).size
        return min(order.remaining_size, reducible(order.side, held))

    def _book(self, order_id: str, execution: Execution, product: Product) -> None:
        order = self.state.orders[order_id]
        now = self.clock()
        self.state.sequence += 1
        fill = Fill(
            f"{self.name}-t{self.state.sequence:08d}",
            order.client_order_id,
            order.product_id,
            order.side,
            execution.price,
            execution.size,
            execution.fee,
            execution.liquidity,
            now,
            order_id,
        )
        self.state.fills.append(fill)
        notional = execution.price * execution.size * product.multiplier
        base, quote = product.base_currency, product.quote_currency
        balances = self.state.balances
        if product.is_derivative:
            held = self.state.positions.setdefault(order.product_id, VenuePosition())
            signed = execution.size if order.side is Side.BUY else -execution.size
            held.size, held.entry_price, realized = roll_position(
                held.size, held.entry_price, signed, execution.price, product.multiplier
            )
            held.realized_pnl += realized
            balances[quote] = balances.get(quote, Decimal(0)) + realized - execution.fee
            if not held.size:
                self.state.funded.pop(order.product_id, None)
            left = order.remaining_size - execution.size
            self.state.holds[order_id] = self.state.holds[order_id] * left / order.remaining_size
        elif order.side is Side.BUY:
            balances[quote] = balances.get(quote, Decimal(0)) - notional - execution.fee
            balances[base] = balances.get(base, Decimal(0)) + execution.size
            self.state.holds[order_id] = max(self.state.holds[order_id] - notional - execution.fee, Decimal(0))
        else:
            balances[base] = balances.get(base, Decimal(0)) - execution.size
            balances[quote] = balances.get(quote, Decimal(0)) + notional - execution.fee
            self.state.holds[order_id] = max(self.state.holds[order_id] - execution.size, Decimal(0))
        filled = order.filled_size + execution.size
        average = (
            (order.average_filled_price or Decimal(0)) * order.filled_size + execution.price * execution.size
        ) / filled
        status = OrderStatus.FILLED if filled >= order.request.size else OrderStatus.PARTIALLY_FILLED
        self.state.orders[order_id] = replace(
            order,
            status=status,
            filled_size=filled,
            average_filled_price=average,
            fees=order.fees + execution.fee,
            updated_at=now,
        )
        if status is OrderStatus.FILLED:
            self._finish(order_id, None)
        self._report(order_id)
        self._report_fill(order_id, fill)

    def _finish(self, order_id: str, status: OrderStatus | None) -> None:
        """End an order (or only release its hold when it already ended by filling)."""
        self.state.holds.pop(order_id, None)
        self.state.triggered.discard(order_id)
        if status is not None:
            self.state.orders[order_id] = replace(self.state.orders[order_id], status=status, updated_at=self.clock())
            self._report(order_id)

    def _report(self, order_id: str) -> None:
        """The order's update, as it stands now."""
        order = self.state.orders[order_id]
        self.events.publish(
            OrderUpdateEvent(
                order_id=order_id,
                client_order_id=order.client_order_id,
                product_id=order.product_id,
                side=order.side,
                status=order.status,
                filled_size=order.filled_size,
                remaining_size=order.remaining_size,
                average_price=order.average_filled_price if order.filled_size else None,
                fees=order.fees,
                time=order.updated_at,
            )
        )

    def _report_fill(self, order_id: str, fill: Fill) -> None:
        """A booked fill, and the trade it made in the market: Coinbase reports a trade by its maker's side."""
        self.events.publish(
            FillEvent(
                order_id=order_id,
                client_order_id=fill.client_order_id,
                product_id=fill.product_id,
                side=fill.side,
                size=fill.size,
                price=fill.price,
                fee=fill.fee,
                time=fill.time,
                trade_id=fill.trade_id,
            )
        )
        maker = fill.side if fill.liquidity is Liquidity.MAKER else fill.side.opposite
        self.events.publish(TradeEvent(fill.product_id, fill.trade_id, fill.price, fill.size, maker, fill.time))

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self.state)
