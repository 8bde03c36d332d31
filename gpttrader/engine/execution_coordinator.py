"""The execution side of a cycle: a decision becomes orders with deterministic client order ids, each
passes the risk manager and goes out through the executor; fills come back into the bot's portfolio.

The portfolio is the bot's own: its positions are built from the fills in the orders store (so a restart
rebuilds them exactly), and its cash is the account's quote balance. A target is pursued until it holds
(`engine.pursuit`): each bar the orders still working toward the product's last decision are cancelled
and the difference between the goal and the position plus what could not be cancelled is ordered again,
with backoff after an attempt that placed nothing and an alert once it stays unmet. New order intents
replace the product's working entries, and a limit entry works for its `expire_bars`, live as in the
backtest. Exits (an intent's bracket) cover each part of an entry as it fills (`engine.exits`); a spot
order that sells what they hold cancels them first and they are placed again at what is left, whatever
came of that order.

Working orders and orders of unknown fate (a send that ended without a definite answer) count as exposure
in every pre-trade check at their full remaining size, buys and sells apart, and an order of unknown fate
blocks new orders of its product until it is resolved (`resolve_unknown`: looked up by client order id
with backoff, sent again under its own id while young, given up once the exchange has long not listed
it, reduce-only and an alert when it cannot be looked up at all). Every send holds the send gate, which a
kill switch at work in another process closes. A fill that the books cannot explain (a spot sell of more
than the bot holds) halts trading; it never crashes the bot.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from gpttrader.brokers.errors import BrokerError
from gpttrader.brokers.protocol import MarginSummary
from gpttrader.config.models import ExecutionConfig
from gpttrader.domain import (
    BookLevel,
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
from gpttrader.domain.client_ids import ClientIds
from gpttrader.domain.events import EventType
from gpttrader.domain.quantize import quantize_price
from gpttrader.domain.round_trips import RoundTrips
from gpttrader.engine.decisions import market_order, negligible, order_for_intent, target_size
from gpttrader.engine.execution import OrderExecutor
from gpttrader.engine.exits import ExitBook, is_exit, live_exits, working_on
from gpttrader.engine.marks import MarkBook
from gpttrader.engine.order_manager import ExitPlan, Pursuit, entry_expiry, stopped_by
from gpttrader.engine.portfolio import Portfolio
from gpttrader.engine.telemetry import CycleMetrics, ExecutionTelemetry
from gpttrader.risk import LiveRiskManager, TradeContext, TradingState
from gpttrader.risk.checks import is_reducing
from gpttrader.store import EventStore, OrdersStore
from gpttrader.strategy import Bar, Intent, OrderIntent, TargetPosition
from gpttrader.strategy.timeframes import Decision

log = logging.getLogger(__name__)
LOOKUP_BACKOFF = (0, 1, 2, 5, 10, 30, 60)  # seconds between look-ups of an unresolved order, then every 60 s
BPS = Decimal(10_000)
BOOK_LEVELS = 50  # per side: the impact check's walk, and the depth guard's 50 bps band on a liquid pair


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
        ids: ClientIds,
        clock_now: Callable[[], datetime],
        bar: timedelta,
        send_gate: Callable[[], AbstractContextManager[object]] = nullcontext,
        margin: Callable[[], MarginSummary | None] = lambda: None,
        run_id: str | None = None,
    ) -> None:
        self.executor, self.orders, self.events, self.risk = executor, orders, events, risk
        self.products, self.marks, self.settings = dict(products), marks, settings
        self.fee_rate, self.telemetry, self.metrics = fee_rate, telemetry, metrics
        self.strategy_name, self.ids, self.run_id, self.margin = strategy_name, ids, run_id, margin
        self.clock_now, self.bar = clock_now, bar
        self.send_gate = send_gate  # held around every send: see app.profile_lock.SendGate
        self.portfolio = Portfolio(cash=Decimal(0))
        # What the account can spend per currency (available, not total: open buys hold some), read each
        # cycle and drawn down by each buy this cycle sends.
        self.available: dict[str, Decimal] = {}
        self.trips = RoundTrips()
        self.closed_trips: list[Decimal] = []  # taken by the telemetry each cycle
        self.lock = threading.RLock()  # the loop, the kill switch and the panel may act at once
        self.signal_at: float | None = None  # perf_counter of the tick that closed the bar being decided
        self.bars_at: float | None = None  # perf_counter when the closed bars were in hand
        # Seconds since then spent waiting on the exchange (a book read, margin, cancels): not the process's.
        self.exchange_wait = 0.0
        self._applied: set[str] = set()
        self.pursuits: dict[str, Pursuit] = {}  # the target being pursued, per product
        self.unmet: dict[str, int] = {}  # bars each product's target has not been held
        self.exits = ExitBook(orders, events, ids, run_id=run_id)
        self.send_errors: list[BrokerError] = []  # failed sends since the bot last read them (API-error guard)
        self.unexplained_fills = 0
        # Fills already reported as unexplained: a restart books them the same way without reporting them
        # (or halting) again, since an operator may have reviewed and resumed since.
        self._unexplained = {e.payload["trade_id"] for e in events.read(types=[EventType.BOOKS_UNEXPLAINED_FILL])}
        self._unstopped: set[str] = set()  # orders a state's stop did not cancel, warned of once
        self._lookups: dict[str, tuple[int, datetime]] = {}  # unresolved order -> (look-ups made, next one)
        self._overdue = {e.payload["client_order_id"] for e in events.read(types=[EventType.ORDER_UNRESOLVED])}
        # Limit entries that stop working at a time (their expire_bars), kept across a restart.
        self._expiries = {
            e.payload["client_order_id"]: datetime.fromisoformat(e.payload["expires_at"])
            for e in events.read(types=[EventType.STRATEGY_DECISION])
            if e.payload.get("expires_at")
        }

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
                product = self._product(fill.product_id)
                self.portfolio.apply(explained, product)
                trip = self.trips.apply(explained, product.multiplier)  # as the backtest books it
                if trip is not None:
                    closed.append(trip.pnl)
                    if trip.fraction is not None:  # the strategy's edge record (Kelly sizing)
                        self.risk.record_trip(self.strategy_name, fill.product_id, trip.fraction, fill.time)
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
            EventType.BOOKS_UNEXPLAINED_FILL,
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

    def exposure_positions(self, open_orders: Sequence[Order], request: OrderRequest) -> dict[str, Position]:
        """The positions as if the orders that may still fill (working ones, what is left of them; orders of
        unknown fate, in full) had filled on the side that makes each largest: for `request`'s product its
        own side (buys and sells apart, so that no combination of fills can pass a cap), for the others the
        larger of the two. Exits aside (they only reduce), and spot sells (they cannot go short). What the
        caps must assume, so that orders resting or unanswered cannot add up past a limit."""
        positions = self.positions()
        marks = self.marks.prices()
        for pid, product in self.products.items():
            buys = sells = Decimal(0)
            for order in open_orders:
                if order.product_id != pid or order.request.reduce_only:
                    continue
                left = order.request.size - order.filled_size
                if order.side is Side.BUY:
                    buys += left
                elif product.product_type is not ProductType.SPOT:
                    sells += left
            current = positions.get(pid)
            size = Decimal(0) if current is None else current.size
            if pid == request.product_id:
                worst = size + buys if request.side is Side.BUY else size - sells
            else:
                worst = max(size + buys, size - sells, key=abs)
            if worst == size:
                continue
            mark = marks.get(pid) or Decimal(0)
            entry = mark if current is None else current.entry_price
            positions[pid] = Position(
                pid, worst, entry, mark, product_type=product.product_type, multiplier=product.multiplier
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
    def act(self, bar: Bar, decision: Decision, now: datetime) -> None:
        with self.lock:
            product = self.products[bar.product_id]
            mark = self.marks.price(bar.product_id)
            if mark is None:
                log.warning("no mark for %s: decision on %s skipped", bar.product_id, bar.time)
                return
            if isinstance(decision, TargetPosition):
                self._pursue(bar, decision.target, product, mark, now)
            elif decision:  # no intents: keep what is working
                self._enter(bar, decision, product, mark, now)

    def _pursue(self, bar: Bar, target: float, product: Product, mark: Decimal, now: datetime) -> None:
        """Order the difference between the target's goal and the position plus what still works toward it."""
        pid = product.product_id
        pursuit = self.pursuits.get(pid)
        if pursuit is None or pursuit.target != target:
            pursuit = self.pursuits[pid] = Pursuit(target, None)
        open_orders = self.orders.open_orders()
        if not any(o.product_id == pid and o.status.is_unresolved for o in open_orders):
            this_bar = [self.ids.decision(pid, bar.time, self.strategy_name, 0)]
            self._withdraw(pid, open_orders, this_bar)  # they served an earlier bar: this bar's replaces them
            retry = pursuit.goal is not None
            signed = pursuit.next_change(
                held=self.portfolio.size(pid) + self._working(pid),
                product=product,
                goal_of=lambda: target_size(
                    product=product,
                    target=target,
                    price=mark,
                    equity=self.equity(),
                    sizer=self.risk,
                    strategy_name=self.strategy_name,
                ),
                bar_time=bar.time,
                state=self.risk.state,
                spendable=self._spendable(product),
                spend_price=self._bound(mark, product, Side.BUY),
                fee_rate=self.fee_rate,
            )
            if signed is not None:
                client_order_id = self.ids.decision(pid, bar.time, self.strategy_name, 0)
                request = market_order(client_order_id, product, signed)
                placed = self._decide(bar, request, None, product, mark, now, retry=retry)
                pursuit.after(
                    bar.time,
                    self.bar,
                    placed=placed,
                    state=self.risk.state,
                    position=self.portfolio.size(pid),
                    change=signed,
                )
        position = self.portfolio.size(pid)
        goal = position if pursuit.goal is None else pursuit.goal
        pursuit.observe(bar.time, met=negligible(goal - position, product))
        self.unmet[pid] = pursuit.unmet_bars(bar.time, self.bar)

    def _enter(self, bar: Bar, decided: tuple[Intent, ...], product: Product, mark: Decimal, now: datetime) -> None:
        """New intents replace the product's entries still working, `CancelEntries` withdraws them (the exits
        of filled ones stay either way)."""
        pid = product.product_id
        intents = [i for i in decided if isinstance(i, OrderIntent)]
        this_bar = [self.ids.decision(pid, bar.time, self.strategy_name, i) for i in range(len(intents))]
        self._withdraw(pid, self.orders.open_orders(), this_bar)
        marks = {**self.marks.prices(), pid: mark}
        equity = self.equity()
        for i, intent in enumerate(intents):
            request = order_for_intent(
                client_order_id=self.ids.decision(pid, bar.time, self.strategy_name, i),
                product=product,
                intent=intent,
                sellable=self.portfolio.size(pid) + self._working(pid, Side.SELL),
                marks=marks,
                equity=equity,
                sizer=self.risk,
                fee_rate=self.fee_rate,
                spendable=self._spendable(product),
                spend_price=self._bound(mark, product, Side.BUY),
                strategy_name=self.strategy_name,
            )
            if request is None:
                continue
            expires = entry_expiry(bar.time, self.bar, intent.expire_bars)
            self._decide(bar, request, intent, product, mark, now, expires=expires)

    def _decide(
        self,
        bar: Bar,
        request: OrderRequest,
        intent: OrderIntent | None,
        product: Product,
        mark: Decimal,
        now: datetime,
        *,
        retry: bool = False,
        expires: datetime | None = None,
    ) -> bool:
        """Record a decided order (the parity stream; a pursuit's retry is marked) and send it."""
        self.events.append(
            EventType.STRATEGY_DECISION,
            {
                "bar_time": bar.time,
                "product_id": request.product_id,
                "side": request.side,
                "size": request.size,
                "order_type": request.order_type,
                "client_order_id": request.client_order_id,
                "mark": mark,
                "retry": retry,
                "expires_at": expires,
            },
            run_id=self.run_id,
            time=now,
        )
        if expires is not None:
            self._expiries[request.client_order_id] = expires
        with self.send_gate():  # a kill switch at work in another process is waited for, never raced
            return self._send(self._executable(request, product, mark), product, mark, now, intent)

    def _working(self, product_id: str, side: Side | None = None) -> Decimal:
        """The signed size still to fill of the product's entries (working or of unknown fate), exits aside."""
        total = Decimal(0)
        for order in self.orders.open_orders():
            if order.product_id != product_id or is_exit(order) or (side is not None and order.side is not side):
                continue
            left = order.request.size - order.filled_size
            total += left if order.side is Side.BUY else -left
        return total

    def _withdraw(self, product_id: str, open_orders: Sequence[Order], keep: Sequence[str]) -> None:
        """Cancel the product's working decided orders but those of the bar being decided (`keep`: decided
        again after a restart, they are this decision's own); one that cannot be cancelled now still counts as
        working. What they held is available again: read before anything is sized against it."""
        withdrawn = False
        for order in open_orders:
            if not self.ids.is_decision(order.client_order_id, product_id) or order.client_order_id in keep:
                continue  # an exit, a kill's flatten, an operator's order: not a decision's to replace
            if order.order_id is None or order.status.is_unresolved:
                continue
            try:
                with self._exchange():
                    self.executor.cancel(order.client_order_id)
                withdrawn = True
            except BrokerError as exc:
                self.send_errors.append(exc)
                log.warning("working order %s not cancelled: %s", order.client_order_id, exc)
        self.absorb_fills()
        if withdrawn:
            self._read_available()

    def _read_available(self) -> None:
        try:
            with self._exchange():
                self.available = self.executor.venue_available()
        except BrokerError as exc:  # sized against the last read: a buy may be cut short, never too large
            self.send_errors.append(exc)
            log.warning("available balances not read after a cancel: %s", exc)

    def _spendable(self, product: Product) -> Decimal:
        return self.available.get(product.quote_currency, Decimal(0))

    def _bound(self, mark: Decimal, product: Product, side: Side) -> Decimal:
        """The worst price a market order may trade at: the mark, the slippage tolerance away."""
        tolerance = self.settings.slippage_tolerance_bps / BPS
        price = mark * (1 + tolerance) if side is Side.BUY else mark * (1 - tolerance)
        return quantize_price(price, product, side)

    def _executable(self, request: OrderRequest, product: Product, mark: Decimal) -> OrderRequest:
        """A market order sent as the profile says: as a limit within the slippage tolerance of the mark
        (IOC in the canary), so that a thin book cannot fill it anywhere."""
        if request.order_type is not OrderType.MARKET or self.settings.order_type == "market":
            return request
        return OrderRequest(
            request.client_order_id,
            request.product_id,
            request.side,
            OrderType.LIMIT,
            request.size,
            self._bound(mark, product, request.side),
            time_in_force=self.settings.time_in_force
            if self.settings.time_in_force is not TimeInForce.GTD
            else TimeInForce.GTC,
            reduce_only=request.reduce_only,
        )

    def _send(
        self, request: OrderRequest, product: Product, mark: Decimal, now: datetime, intent: OrderIntent | None
    ) -> bool:
        """Check and send one order; whether it is (or may be) at the exchange. Limits are checked at the
        price the order is expected to trade at: the mark, or a strategy's own limit (a market order's
        protective limit is a bound, not a price)."""
        if self.orders.get(request.client_order_id) is not None:
            return True  # decided before a restart: sent (or being reconciled) already, never twice
        self.metrics.decisions += 1
        expected = intent.limit_price if intent is not None and intent.limit_price is not None else None
        price = request.limit_price if expected is not None and request.limit_price is not None else mark
        self.risk.reload_state()  # a halt another process recorded (the kill switch) holds for this order too
        open_orders = self.orders.open_orders()
        unresolved = [o for o in open_orders if o.status.is_unresolved]
        with self._exchange():
            summary = self.margin() if product.is_derivative else None  # futures margin, from the exchange
        positions = self.exposure_positions(open_orders, request)
        held = positions.get(request.product_id)
        change = request.size if request.side is Side.BUY else -request.size
        book: Sequence[BookLevel] | None = None
        if not is_reducing(Decimal(0) if held is None else held.size, change):  # the impact check skips those
            try:
                with self._exchange():
                    book = self.executor.order_book(request.product_id, BOOK_LEVELS).taken_by(request.side)
            except BrokerError as exc:  # the impact check cannot walk a book it has not seen: not sent this time
                self.send_errors.append(exc)
                log.warning("order %s not sent: the book could not be read: %s", request.client_order_id, exc)
                return False
        ctx = TradeContext(
            request,
            product,
            price,
            self.equity(),
            positions,
            self.risk.state,
            now,
            self.marks.time(request.product_id),
            available_margin=None if summary is None else summary.available_margin,
            book=book,
            unresolved=tuple(o.request for o in unresolved),
            # The order-rate limits count the bot's decided orders the store holds (so a restart keeps the
            # count), whatever became of them; exits, kill flattens and operators' orders are not decisions.
            sent_at=tuple(
                at
                for cid, pid, at in self.orders.sent_since(now - self.risk.limits.order_rate.lookback)
                if self.ids.is_decision(cid, pid)
            ),
        )
        if not self.risk.validate(ctx).passed:
            self.metrics.rejected += 1
            return False
        freed = ctx.reducing and product.product_type is ProductType.SPOT
        if freed:
            self._cancel_exits(request.product_id)  # they hold what this order sells; placed again below
        plan = None if intent is None else ExitPlan.of(intent)
        if plan is not None:
            self.exits.plan(request.client_order_id, plan)
        placed = self._submit(request, counted=True)
        if placed and request.side is Side.BUY and not product.is_derivative:
            paid = request.limit_price or self._bound(mark, product, Side.BUY)
            self.available[product.quote_currency] = self._spendable(product) - request.size * paid * (
                1 + self.fee_rate
            )
        self.absorb_fills()
        if freed or ctx.reducing:
            self._protect()
        return placed

    def bars_in_hand(self) -> None:
        """The closed bars of this cycle are read: its decision latency inside the process starts now."""
        self.bars_at, self.exchange_wait = time.perf_counter(), 0.0

    @contextmanager
    def _exchange(self) -> Iterator[None]:
        """Time spent waiting on the exchange while deciding, which the in-process latency leaves out."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.exchange_wait += time.perf_counter() - started

    def _submit(self, request: OrderRequest, *, counted: bool) -> bool:
        """Send through the executor; whether the order is (or may be) at the exchange. A decided order is
        `counted` in the cycle's metrics (and its decision latency), an exit is not."""
        started = time.perf_counter()
        if self.signal_at is not None and self.bars_at is not None and counted:
            in_process = started - self.bars_at - self.exchange_wait
            self.telemetry.record_decision(started - self.signal_at, in_process)
        try:
            self.executor.submit(request)
        except (BrokerError, OrderRejected) as exc:
            self.telemetry.record(False, time.perf_counter() - started)
            if isinstance(exc, BrokerError):
                self.send_errors.append(exc)
            stored = self.orders.get(request.client_order_id)
            if stored is not None and stored.status.is_unresolved:
                log.error("order %s sent without a definite answer, fate unknown: %s", request.client_order_id, exc)
                return True
            log.warning("order %s not placed: %s", request.client_order_id, exc)
            return False
        self.telemetry.record(True, time.perf_counter() - started)
        self.metrics.orders += counted
        return True

    # -- working orders ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Bring every open order up to date (fills by polling, when no feed pushed them), end the limit
        entries whose time is up, then protect what the entries filled."""
        with self.lock:
            self.refresh_open()
            self.resolve_unknown(self.clock_now())
            self._expire(self.clock_now())
            self._stop_by_state()
            self.absorb_fills()
            with self.send_gate():
                self._protect()

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
                        EventType.ORDER_UNRESOLVED,
                        {"client_order_id": order.client_order_id, "message": message},
                        run_id=self.run_id,
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

    def _expire(self, now: datetime) -> None:
        """Cancel the limit entries whose expire_bars are over (the backtest works them that many bars)."""
        for cid, at in list(self._expiries.items()):
            order = self.orders.get(cid)
            if order is None or order.is_terminal:
                del self._expiries[cid]
            elif now >= at and order.order_id is not None and not order.status.is_unresolved:
                self.events.append(
                    EventType.ORDER_EXPIRE_REQUESTED, {"client_order_id": cid, "expires_at": at}, run_id=self.run_id
                )
                try:
                    self.executor.cancel(cid)
                except BrokerError as exc:
                    self.send_errors.append(exc)
                    log.warning("expired entry %s not cancelled yet: %s", cid, exc)

    def _stop_by_state(self) -> None:
        """Under reduce-only or halted, cancel the decided orders still working that would not shrink their
        position, judged together with what the exits and the orders it cannot cancel (of unknown fate)
        already take out of it (`engine.order_manager.stopped_by`). One the exchange does not cancel (it
        filled meanwhile, or the cancel failed) is judged again next cycle; only a cancel is recorded."""
        state = self.risk.reload_state()
        if state is TradingState.ACTIVE:
            return
        open_orders = self.orders.open_orders()
        for pid in {o.product_id for o in open_orders}:
            ours = [o for o in open_orders if o.product_id == pid]
            stoppable = [
                o
                for o in ours
                if self.ids.is_decision(o.client_order_id, pid)
                and o.order_id is not None
                and not o.status.is_unresolved
            ]
            kept = [(o.side, o.request.size - o.filled_size) for o in ours if o not in stoppable]
            working = [(o.side, o.request.size - o.filled_size) for o in stoppable]
            stops = stopped_by(state, self.portfolio.size(pid), working, kept=kept)
            for order, stop in zip(stoppable, stops, strict=True):
                if stop:
                    self._stop(order, state)

    def _stop(self, order: Order, state: TradingState) -> None:
        remaining = order.request.size - order.filled_size
        try:
            after = self.executor.cancel(order.client_order_id)
        except BrokerError as exc:
            self.send_errors.append(exc)
            log.warning("order %s not stopped under %s yet: %s", order.client_order_id, state, exc)
            return
        if after.status is not OrderStatus.CANCELLED:
            if order.client_order_id not in self._unstopped:  # said once: it is tried again every cycle
                self._unstopped.add(order.client_order_id)
                log.warning(
                    "order %s not stopped under %s: the exchange has it %s", order.client_order_id, state, after.status
                )
            return
        self.events.append(
            EventType.RISK_ORDER_CANCELLED,
            {"client_order_id": order.client_order_id, "remaining": str(remaining), "state": str(state)},
            run_id=self.run_id,
        )

    def _protect(self) -> None:
        """Exits sized to what is held: those covering more than the position are cancelled (they would
        open the reverse on futures), then every part of an entry that filled and is not covered gets its
        exit. One that fails is tried again next time; after `execution.exit_place_attempts` the bot goes
        reduce-only with an alert, and keeps trying. The caller holds the send gate."""
        if self.risk.reload_state() is TradingState.HALTED:
            return  # the kill switch flattens; it does not want new orders beside its own
        self._trim_exits()
        for entry_id, request in self.exits.needed(self.portfolio, self._product):
            if self._submit(request, counted=False):
                self.exits.placed(entry_id)
                continue
            stored = self.orders.get(request.client_order_id)
            why = "not sent" if stored is None else f"{stored.status} {stored.reject_reason or ''}".strip()
            message = self.exits.failed(entry_id, why, self.settings.exit_place_attempts)
            if message is not None:
                self.risk.escalate(TradingState.REDUCE_ONLY, f"unprotected position: {message}")
        self.absorb_fills()

    def _trim_exits(self) -> None:
        open_orders = self.orders.open_orders()
        for pid in {o.product_id for o in open_orders if is_exit(o)}:
            side = live_exits(open_orders, pid)[0].side  # a sell exits a long, a buy a short
            held = self.portfolio.size(pid) if side is Side.SELL else -self.portfolio.size(pid)
            if working_on(open_orders, pid, side) > max(held, Decimal(0)):
                self._cancel_exits(pid)  # with the orders beside them they would take out more than is held

    def _cancel_exits(self, product_id: str) -> None:
        for order in live_exits(self.orders.open_orders(), product_id):
            if order.order_id is not None and not order.status.is_unresolved:
                try:
                    self.executor.cancel(order.client_order_id)
                except BrokerError as exc:
                    self.send_errors.append(exc)
                    log.warning("exit %s not cancelled: %s", order.client_order_id, exc)
        self.absorb_fills()

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
