"""The execution side of a cycle: a decision becomes orders with deterministic client order ids, each
passes the risk manager and goes out through the executor; fills come back into the bot's portfolio.

The portfolio is the bot's own: its positions are built from the fills in the orders store (so a restart
rebuilds them exactly), and its cash is the account's quote balance. Attached exits (an order intent's
bracket) are planned in the event store when their entry is sent, placed for what the entry filled once
it is done, and cancelled when the position they protect is closed another way.

Working orders and orders of unknown fate (a send that ended without a definite answer) count as exposure
in every pre-trade check, the latter at full size, and an order of unknown fate blocks new orders of its
product until it is resolved (`resolve_unknown`: looked up by client order id with backoff, sent again
under its own id while young, given up once the exchange has long not listed it, reduce-only and an alert
when it cannot be looked up at all). Every send holds the send gate, which a kill switch at work in
another process closes. A fill that the books cannot explain (a spot sell of more than the bot holds)
halts trading; it never crashes the bot.
"""

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from gpttrader.brokers.errors import BrokerError
from gpttrader.brokers.protocol import MarginSummary
from gpttrader.config.models import ExecutionConfig
from gpttrader.domain import (
    Fill,
    Order,
    OrderRejected,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Product,
    ProductType,
    Side,
    TimeInForce,
)
from gpttrader.domain.quantize import quantize_price
from gpttrader.engine.decisions import order_for_intent, order_for_target
from gpttrader.engine.execution import OrderExecutor
from gpttrader.engine.marks import MarkBook
from gpttrader.engine.portfolio import Portfolio, RoundTrips
from gpttrader.engine.telemetry import CycleMetrics, ExecutionTelemetry
from gpttrader.risk import LiveRiskManager, TradeContext, TradingState
from gpttrader.store import EventStore, OrdersStore
from gpttrader.strategy import Bar, OrderIntent, TargetPosition

log = logging.getLogger(__name__)
EXITS_PLANNED = "order.exits_planned"
UNRESOLVED = "order.unresolved"  # an order of unknown fate that could not be looked up within its time
UNEXPLAINED_FILL = "books.unexplained_fill"
LOOKUP_BACKOFF = (0, 1, 2, 5, 10, 30, 60)  # seconds between look-ups of an unresolved order, then every 60 s
DECISION = "strategy.decision"  # what the strategy decided, before the risk manager: the parity stream
BPS = Decimal(10_000)


class ExecutionCoordinator:
    def __init__(
        self,
        *,
        executor: OrderExecutor,
        orders: OrdersStore,
        events: EventStore,
        risk: LiveRiskManager,
        products: Mapping[str, Product],
        marks: MarkBook,
        settings: ExecutionConfig,
        fee_rate: Decimal,
        telemetry: ExecutionTelemetry,
        metrics: CycleMetrics,
        strategy_name: str,
        clock_now: Callable[[], datetime],
        send_gate: Callable[[], AbstractContextManager[object]] = nullcontext,
        margin: Callable[[], MarginSummary | None] = lambda: None,
        run_id: str | None = None,
    ) -> None:
        self.executor, self.orders, self.events, self.risk = executor, orders, events, risk
        self.products, self.marks, self.settings = dict(products), marks, settings
        self.fee_rate, self.telemetry, self.metrics = fee_rate, telemetry, metrics
        self.strategy_name, self.run_id, self.margin = strategy_name, run_id, margin
        self.clock_now = clock_now
        self.send_gate = send_gate  # held around every send: see app.profile_lock.SendGate
        self.portfolio = Portfolio(cash=Decimal(0))
        self.trips = RoundTrips()
        self.closed_trips: list[Decimal] = []  # taken by the telemetry each cycle
        self.lock = threading.RLock()  # the loop, the kill switch and the panel may act at once
        self.signal_at: float | None = None  # perf_counter of the tick that closed the bar being decided
        self.bars_at: float | None = None  # perf_counter when the closed bars were in hand
        self._applied: set[str] = set()
        self._targets: dict[str, float] = {}  # the last target acted on, per product
        self._exits: dict[str, tuple[Decimal, Decimal]] = {}
        self.send_errors: list[BrokerError] = []  # failed sends since the bot last read them (API-error guard)
        self.unexplained_fills = 0
        # Fills already reported as unexplained: a restart books them the same way without reporting them
        # (or halting) again, since an operator may have reviewed and resumed since.
        self._unexplained = {e.payload["trade_id"] for e in events.read(types=[UNEXPLAINED_FILL])}
        self._lookups: dict[str, tuple[int, datetime]] = {}  # unresolved order -> (look-ups made, next one)
        self._overdue = {e.payload["client_order_id"] for e in events.read(types=[UNRESOLVED])}
        for event in events.read(types=[EXITS_PLANNED]):
            self._exits[event.payload["client_order_id"]] = (
                Decimal(event.payload["take_profit"]),
                Decimal(event.payload["stop_loss"]),
            )

    # -- portfolio ---------------------------------------------------------------------------------------
    def absorb_fills(self) -> list[Decimal]:
        """Book every stored fill not booked yet (in time order); returns the PnL of the round trips they
        closed, for the loss-streak guard."""
        with self.lock:
            new = [f for f in self.orders.fills(as_recorded=True) if f.trade_id not in self._applied]
            closed = []
            for fill in new:
                before = self.portfolio.size(fill.product_id)
                self._applied.add(fill.trade_id)
                explained = self._explained(fill, before)
                if explained is None:
                    continue
                realized = self.portfolio.apply(explained, self._product(fill.product_id))
                trip = self.trips.book(
                    fill.product_id, before, self.portfolio.size(fill.product_id), realized - fill.fee
                )
                if trip is not None:
                    closed.append(trip)
            self.metrics.fills += len(new)
            self.closed_trips.extend(closed)
            return closed

    def _explained(self, fill: Fill, held: Decimal) -> Fill | None:
        """The part of `fill` the books can explain. A spot sell of more than the bot holds means the books
        missed something (a fill of an order it never knew of): what it holds is booked as sold, the rest is
        recorded, and trading halts until an operator has looked (fail closed, never a crash)."""
        product = self._product(fill.product_id)
        if product.product_type is not ProductType.SPOT or fill.side is Side.BUY or fill.size <= held:
            return fill
        if fill.trade_id in self._unexplained:
            return replace(fill, size=held) if held > 0 else None
        self._unexplained.add(fill.trade_id)
        excess = fill.size - max(held, Decimal(0))
        message = (
            f"fill {fill.trade_id} sells {fill.size} {fill.product_id} while the books hold {held}: "
            f"{excess} cannot be explained"
        )
        log.error("%s; trading halted", message)
        self.unexplained_fills += 1
        self.events.append(
            UNEXPLAINED_FILL,
            {"trade_id": fill.trade_id, "client_order_id": fill.client_order_id, "excess": excess, "message": message},
            run_id=self.run_id,
        )
        self.risk.escalate(TradingState.HALTED, f"books: {message}")
        return replace(fill, size=held) if held > 0 else None

    def _product(self, product_id: str) -> Product:
        """A product of the bot's, or one it traded before its symbols changed (its old orders still fill)."""
        if product_id not in self.products:
            self.products[product_id] = self.executor.product(product_id)
        return self.products[product_id]

    def unresolved(self) -> list[Order]:
        """The bot's orders of unknown fate: sent (or perhaps sent) and never answered."""
        return [o for o in self.orders.open_orders() if o.status.is_unresolved]

    def exposure_positions(self, open_orders: Sequence[Order]) -> dict[str, Position]:
        """The positions as if every order that may still fill had filled where that makes a position larger:
        orders of unknown fate (their full size) and working orders (what is left of them), exits aside.
        What the caps must assume, so that orders resting or unanswered cannot add up past a limit."""
        positions = self.positions()
        marks = self.marks.prices()
        for order in open_orders:
            product = self.products.get(order.product_id)
            if product is None or order.request.reduce_only:
                continue  # a product no longer traded (no cap of this bot's applies), or an exit: it only reduces
            if product.product_type is ProductType.SPOT and order.side is Side.SELL:
                continue  # a spot sell never makes a position larger (it cannot go short)
            current = positions.get(order.product_id)
            size = Decimal(0) if current is None else current.size
            left = order.request.size - order.filled_size
            signed = left if order.side is Side.BUY else -left
            if abs(size + signed) <= abs(size):
                continue
            mark = marks.get(order.product_id) or order.request.limit_price or Decimal(0)
            entry = mark if current is None else current.entry_price
            positions[order.product_id] = Position(
                order.product_id,
                size + signed,
                entry,
                mark,
                product_type=product.product_type,
                multiplier=product.multiplier,
            )
        return positions

    def positions(self) -> dict[str, Position]:
        marks = self.marks.prices()
        return {
            pid: holding.position(marks.get(pid, holding.entry_price))
            for pid, holding in self.portfolio.holdings.items()
            if holding.size
        }

    def equity(self) -> Decimal:
        marks = self.marks.prices()
        held = {pid: marks.get(pid, h.entry_price) for pid, h in self.portfolio.holdings.items()}
        return self.portfolio.equity(held)

    # -- decisions ---------------------------------------------------------------------------------------
    def act(self, bar: Bar, decision: TargetPosition | tuple[OrderIntent, ...], now: datetime) -> None:
        with self.lock:
            product = self.products[bar.product_id]
            mark = self.marks.price(bar.product_id)
            if mark is None:
                log.warning("no mark for %s: decision on %s skipped", bar.product_id, bar.time)
                return
            marks = {**self.marks.prices(), bar.product_id: mark}
            equity = self.equity()
            stem = f"{bar.product_id}-{bar.time:%Y%m%dT%H%M}-{self.strategy_name}"
            requests: list[tuple[OrderRequest, OrderIntent | None]] = []
            if isinstance(decision, TargetPosition):
                # As in the backtest, a target is acted on when it changes (and on the first bar after a
                # start); acting on every bar would trade the equity's drift in crumbs, fees and all.
                if self._targets.get(bar.product_id) == decision.target:
                    return
                self._targets[bar.product_id] = decision.target
                request = order_for_target(
                    client_order_id=f"{stem}-0",
                    product=product,
                    target=decision.target,
                    portfolio=self.portfolio,
                    marks=marks,
                    equity=equity,
                    sizer=self.risk,
                    fee_rate=self.fee_rate,
                    strategy_name=self.strategy_name,
                )
                requests += [] if request is None else [(request, None)]
            else:
                for i, intent in enumerate(decision):
                    request = order_for_intent(
                        client_order_id=f"{stem}-{i}",
                        product=product,
                        intent=intent,
                        portfolio=self.portfolio,
                        marks=marks,
                        equity=equity,
                        sizer=self.risk,
                        fee_rate=self.fee_rate,
                        strategy_name=self.strategy_name,
                    )
                    requests += [] if request is None else [(request, intent)]
            for request, origin in requests:
                self.events.append(
                    DECISION,
                    {
                        "bar_time": bar.time,
                        "product_id": request.product_id,
                        "side": request.side,
                        "size": request.size,
                        "order_type": request.order_type,
                        "client_order_id": request.client_order_id,
                        "mark": mark,
                    },
                    run_id=self.run_id,
                    time=now,
                )
                with self.send_gate():  # a kill switch at work in another process is waited for, never raced
                    self._send(self._executable(request, product, mark), product, mark, equity, now, origin)

    def _executable(self, request: OrderRequest, product: Product, mark: Decimal) -> OrderRequest:
        """A market order sent as the profile says: as a limit within the slippage tolerance of the mark
        (IOC in the canary), so that a thin book cannot fill it anywhere."""
        if request.order_type is not OrderType.MARKET or self.settings.order_type == "market":
            return request
        tolerance = self.settings.slippage_tolerance_bps / BPS
        price = mark * (1 + tolerance) if request.side is Side.BUY else mark * (1 - tolerance)
        return OrderRequest(
            request.client_order_id,
            request.product_id,
            request.side,
            OrderType.LIMIT,
            request.size,
            quantize_price(price, product, request.side),
            time_in_force=self.settings.time_in_force
            if self.settings.time_in_force is not TimeInForce.GTD
            else TimeInForce.GTC,
            reduce_only=request.reduce_only,
        )

    def _send(
        self,
        request: OrderRequest,
        product: Product,
        mark: Decimal,
        equity: Decimal,
        now: datetime,
        intent: OrderIntent | None,
    ) -> None:
        """Check and send one order. Limits are checked at the price the order is expected to trade at: the
        mark, or a strategy's own limit (a market order's protective limit is a bound, not a price)."""
        if self.orders.get(request.client_order_id) is not None:
            return  # decided before a restart: sent (or being reconciled) already, never twice
        self.metrics.decisions += 1
        expected = intent.limit_price if intent is not None and intent.limit_price is not None else None
        price = request.limit_price if expected is not None and request.limit_price is not None else mark
        self.risk.reload_state()  # a halt another process recorded (the kill switch) holds for this order too
        open_orders = self.orders.open_orders()
        unresolved = [o for o in open_orders if o.status.is_unresolved]
        positions = self.exposure_positions(open_orders)
        summary = self.margin() if product.is_derivative else None  # futures margin, from the exchange
        ctx = TradeContext(
            request,
            product,
            price,
            equity,
            positions,
            self.risk.state,
            now,
            self.marks.time(request.product_id),
            available_margin=None if summary is None else summary.available_margin,
            unresolved=tuple(o.request for o in unresolved),
        )
        if not self.risk.validate(ctx).passed:
            self.metrics.rejected += 1
            return
        if ctx.reducing:
            self._cancel_exits(request.product_id)  # this order does their job; they hold what it sells
        if intent is not None and intent.exits is not None:
            take, stop = (Decimal(repr(p)) for p in intent.exits)
            self._exits[request.client_order_id] = (take, stop)
            self.events.append(
                EXITS_PLANNED,
                {"client_order_id": request.client_order_id, "take_profit": take, "stop_loss": stop},
                run_id=self.run_id,
            )
        started = time.perf_counter()
        if self.signal_at is not None and self.bars_at is not None:
            self.telemetry.record_decision(started - self.signal_at, started - self.bars_at)
        try:
            self.executor.submit(request)
        except (BrokerError, OrderRejected) as exc:
            self.telemetry.record(False, time.perf_counter() - started)
            if isinstance(exc, BrokerError):
                self.send_errors.append(exc)
            stored = self.orders.get(request.client_order_id)
            if stored is not None and stored.status.is_unresolved:
                log.error("order %s sent without a definite answer, fate unknown: %s", request.client_order_id, exc)
            else:
                log.warning("order %s not placed: %s", request.client_order_id, exc)
        else:
            self.telemetry.record(True, time.perf_counter() - started)
            self.metrics.orders += 1
        self.absorb_fills()

    # -- working orders ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Bring every open order up to date (fills by polling, when no feed pushed them), then place the
        exits of entries that are done and drop the exits of closed positions."""
        with self.lock:
            self.refresh_open()
            self.resolve_unknown(self.clock_now())
            self.absorb_fills()
            with self.send_gate():
                self._place_exits()
            self._drop_orphan_exits()

    def refresh_open(self) -> None:
        """Read every acknowledged open order back from the exchange (status and fills)."""
        with self.lock:
            for order in self.orders.open_orders():
                if order.order_id is not None and not order.status.is_unresolved:
                    self.executor.refresh(order.client_order_id)
            self.absorb_fills()

    def resolve_unknown(
        self, now: datetime, *, force: bool = False, resend: Callable[[Order], bool] | None = None
    ) -> list[Order]:
        """Look the orders of unknown fate up at the exchange by client order id (each on its backoff, or all
        with `force`); returns those still unresolved.

        Found, an order is recorded as the exchange has it. Not listed: a PENDING one (a send cut short by a
        crash) becomes UNKNOWN from now; an UNKNOWN one is sent again under its own id while it is young and
        `resend` allows it (by default: the bot is active), which Coinbase answers with the order if it has it;
        one still not listed after `execution.unresolved_order_seconds` was never placed and is FAILED. One
        that could not be looked up for that long (the exchange keeps failing) is reported once and turns the
        bot reduce-only; it keeps counting as exposure and blocking its product until it is found."""
        limit = timedelta(seconds=self.settings.unresolved_order_seconds)
        may_resend = resend or (lambda order: self.risk.reload_state() is TradingState.ACTIVE)
        gate = self.send_gate if resend is None else nullcontext  # the kill switch's resends are its own
        with self.lock:
            pending = [o for o in self.unresolved() if force or self._lookup_due(o.client_order_id, now)]
            listings: dict[str, dict[str, Order] | None] = {}
            for order in pending:
                if order.product_id not in listings:
                    listings[order.product_id] = self._listing(order.product_id)
                listing = listings[order.product_id]
                if listing is None:  # the exchange did not answer: nothing learned
                    self._back_off(order.client_order_id, now)
                    continue
                found = listing.get(order.client_order_id)
                if found is None:
                    found = self._not_listed(order, now, limit, may_resend, gate)
                else:
                    self.executor.resolve(order, found)
                if found is None:
                    self._back_off(order.client_order_id, now)
                else:
                    self._lookups.pop(order.client_order_id, None)
            still = self.unresolved()
            for order in still:
                if order.client_order_id not in self._overdue and now - order.updated_at >= limit:
                    self._overdue.add(order.client_order_id)
                    message = (
                        f"order {order.client_order_id} ({order.side} {order.request.size} {order.product_id}) "
                        f"could not be looked up at the exchange within {self.settings.unresolved_order_seconds} s"
                    )
                    self.events.append(
                        UNRESOLVED, {"client_order_id": order.client_order_id, "message": message}, run_id=self.run_id
                    )
                    self.risk.escalate(TradingState.REDUCE_ONLY, f"unresolved order: {message}")
            self.absorb_fills()
            return still

    def _listing(self, product_id: str) -> dict[str, Order] | None:
        """The exchange's orders of a product by client order id, or None when it could not be read."""
        try:
            return {o.client_order_id: o for o in self.executor.venue_orders(product_id)}
        except BrokerError as exc:
            self.send_errors.append(exc)
            log.warning("orders of unknown fate in %s could not be looked up: %s", product_id, exc)
            return None

    def _not_listed(
        self,
        order: Order,
        now: datetime,
        limit: timedelta,
        may_resend: Callable[[Order], bool],
        gate: Callable[[], AbstractContextManager[object]],
    ) -> Order | None:
        if order.status is OrderStatus.PENDING:  # its clock starts now: the send may still be in flight
            self.executor.mark_unknown(order, "not listed by the exchange after a send cut short")
            return None
        if now - order.updated_at >= limit:
            return self.executor.not_found(order, limit)
        age = now - order.created_at  # of the decision: one older than the limit is not worth placing now
        if not timedelta(0) <= age < limit:
            return None
        with gate():
            if not may_resend(order):
                return None
            try:
                return self.executor.resend(order)
            except (BrokerError, OrderRejected) as exc:
                if isinstance(exc, BrokerError):
                    self.send_errors.append(exc)
                log.warning("order %s of unknown fate, sent again: %s", order.client_order_id, exc)
                return None

    def _back_off(self, client_order_id: str, now: datetime) -> None:
        done, _ = self._lookups.get(client_order_id, (0, now))
        wait = LOOKUP_BACKOFF[min(done, len(LOOKUP_BACKOFF) - 1)]
        self._lookups[client_order_id] = (done + 1, now + timedelta(seconds=wait))

    def _lookup_due(self, client_order_id: str, now: datetime) -> bool:
        entry = self._lookups.get(client_order_id)
        return entry is None or now >= entry[1]

    def _place_exits(self) -> None:
        if self.risk.reload_state() is TradingState.HALTED:
            return  # the kill switch flattens; it does not want new orders beside its own
        for entry_id, (take, stop) in list(self._exits.items()):
            entry = self.orders.get(entry_id)
            exit_id = f"{entry_id}-exit"
            if entry is None or not entry.is_terminal or self.orders.get(exit_id) is not None:
                continue
            product = self.products[entry.product_id]
            held = abs(self.portfolio.size(entry.product_id))
            size = min(entry.filled_size, held)
            if size < product.base_min_size or size == 0:
                del self._exits[entry_id]
                continue
            side = Side.SELL if entry.side is Side.BUY else Side.BUY
            request = OrderRequest(
                exit_id,
                entry.product_id,
                side,
                OrderType.BRACKET,
                size,
                quantize_price(take, product, side),
                quantize_price(stop, product, side),
                reduce_only=True,
            )
            started = time.perf_counter()
            try:
                self.executor.submit(request)
                self.telemetry.record(True, time.perf_counter() - started)
            except (BrokerError, OrderRejected) as exc:
                self.telemetry.record(False, time.perf_counter() - started)
                if isinstance(exc, BrokerError):
                    self.send_errors.append(exc)
                log.warning("exit %s not placed: %s", exit_id, exc)
            del self._exits[entry_id]

    def _cancel_exits(self, product_id: str) -> None:
        for order in self.orders.open_orders():
            if order.product_id == product_id and order.request.order_type is OrderType.BRACKET and order.order_id:
                self.executor.cancel(order.client_order_id)

    def _drop_orphan_exits(self) -> None:
        for order in self.orders.open_orders():
            closed = self.portfolio.size(order.product_id) == 0
            if order.request.order_type is OrderType.BRACKET and closed and order.order_id is not None:
                self.executor.cancel(order.client_order_id)

    def stray_open_orders(self) -> list[str]:
        """The bot's orders that the exchange shows open while the store holds them done: the store missed
        the exchange's word (a lost answer read as final). The exchange is what a kill must leave clean."""
        return [o.client_order_id for o in self._strays()]

    def cancel_stray(self) -> list[str]:
        """Cancel the stray open orders at the exchange (see `stray_open_orders`)."""
        with self.lock:
            strays = self._strays()
            for order in strays:
                self.executor.cancel_at_venue(order)
            return [o.client_order_id for o in strays]

    def _strays(self) -> list[Order]:
        strays = []
        for pid in self.products:
            for order in self.executor.venue_orders(pid, open_only=True):
                stored = self.orders.get(order.client_order_id)
                if stored is not None and stored.is_terminal and order.order_id is not None:
                    strays.append(order)
        return strays

    def cancel_open(self, product_ids: Sequence[str] | None = None) -> list[str]:
        """Cancel the bot's open orders (all, or those of `product_ids`); returns their client order ids."""
        with self.lock:
            cancelled = []
            for order in self.orders.open_orders():
                if product_ids is not None and order.product_id not in product_ids:
                    continue
                if order.order_id is not None and not order.status.is_unresolved:
                    self.executor.cancel(order.client_order_id)
                    cancelled.append(order.client_order_id)
            self.absorb_fills()
            return cancelled
