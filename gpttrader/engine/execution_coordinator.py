"""The execution side of a cycle: a decision becomes orders with deterministic client order ids, each
passes the risk manager and goes out through the executor; fills come back into the bot's portfolio.

The portfolio is the bot's own: its positions are built from the fills in the orders store (so a restart
rebuilds them exactly), and its cash is the account's quote balance. Attached exits (an order intent's
bracket) are planned in the event store when their entry is sent, placed for what the entry filled once
it is done, and cancelled when the position they protect is closed another way.
"""

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from gpttrader.brokers.errors import BrokerError
from gpttrader.brokers.protocol import MarginSummary
from gpttrader.config.models import ExecutionConfig
from gpttrader.domain import OrderRejected, OrderRequest, OrderStatus, OrderType, Position, Product, Side, TimeInForce
from gpttrader.domain.quantize import quantize_price
from gpttrader.engine.decisions import order_for_intent, order_for_target
from gpttrader.engine.execution import OrderExecutor
from gpttrader.engine.marks import MarkBook
from gpttrader.engine.portfolio import Portfolio, RoundTrips
from gpttrader.engine.telemetry import CycleMetrics, ExecutionTelemetry
from gpttrader.risk import LiveRiskManager, TradeContext
from gpttrader.store import EventStore, OrdersStore
from gpttrader.strategy import Bar, OrderIntent, TargetPosition

log = logging.getLogger(__name__)
EXITS_PLANNED = "order.exits_planned"
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
        margin: Callable[[], MarginSummary | None] = lambda: None,
        run_id: str | None = None,
    ) -> None:
        self.executor, self.orders, self.events, self.risk = executor, orders, events, risk
        self.products, self.marks, self.settings = dict(products), marks, settings
        self.fee_rate, self.telemetry, self.metrics = fee_rate, telemetry, metrics
        self.strategy_name, self.run_id, self.margin = strategy_name, run_id, margin
        self.portfolio = Portfolio(cash=Decimal(0))
        self.trips = RoundTrips()
        self.closed_trips: list[Decimal] = []  # taken by the telemetry each cycle
        self.lock = threading.RLock()  # the loop, the kill switch and the panel may act at once
        self.signal_at: float | None = None  # perf_counter of the tick that closed the bar being decided
        self.bars_at: float | None = None  # perf_counter when the closed bars were in hand
        self._applied: set[str] = set()
        self._targets: dict[str, float] = {}  # the last target acted on, per product
        self._exits: dict[str, tuple[Decimal, Decimal]] = {}
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
            new = [f for f in self.orders.fills() if f.trade_id not in self._applied]
            closed = []
            for fill in sorted(new, key=lambda f: (f.time, f.trade_id)):
                before = self.portfolio.size(fill.product_id)
                realized = self.portfolio.apply(fill, self.products[fill.product_id])
                self._applied.add(fill.trade_id)
                trip = self.trips.book(
                    fill.product_id, before, self.portfolio.size(fill.product_id), realized - fill.fee
                )
                if trip is not None:
                    closed.append(trip)
            self.metrics.fills += len(new)
            self.closed_trips.extend(closed)
            return closed

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
        positions = self.positions()
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
            for order in self.orders.open_orders():
                if order.order_id is not None:
                    self.executor.refresh(order.client_order_id)
            self.absorb_fills()
            self._place_exits()
            self._drop_orphan_exits()

    def _place_exits(self) -> None:
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

    def cancel_open(self, product_ids: Sequence[str] | None = None) -> list[str]:
        """Cancel the bot's open orders (all, or those of `product_ids`); returns their client order ids."""
        with self.lock:
            cancelled = []
            for order in self.orders.open_orders():
                if product_ids is not None and order.product_id not in product_ids:
                    continue
                if order.order_id is not None and order.status is not OrderStatus.PENDING:
                    self.executor.cancel(order.client_order_id)
                    cancelled.append(order.client_order_id)
            self.absorb_fills()
            return cancelled
