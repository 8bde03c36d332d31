"""Order execution that never loses track of an order.

Each order is quantized, written to the orders store as PENDING and announced in the event store before
it is sent. What the venue answers is recorded afterwards: the acknowledgement, its fills (once each,
by trade id) and its final state. A send that ends without a definite answer (a timeout, a 5xx after the
retries, a garbled answer) leaves the order UNKNOWN: it may be at the venue, so it is looked up by its
client order id later (`resolve`), and it is never resent under a new id. Only a definite "no" (the venue's
rejection, or a 429/401/403, which Coinbase answers without processing the request) ends it as REJECTED or
FAILED.
"""

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from gpttrader.brokers.errors import (
    AuthenticationError,
    BrokerError,
    InvalidOrderError,
    PermissionDeniedError,
    RateLimitedError,
)
from gpttrader.brokers.protocol import Broker
from gpttrader.domain import Order, OrderBook, OrderRejected, OrderRequest, OrderStatus, Product, prepare_order
from gpttrader.domain.events import EventType
from gpttrader.store import EventStore, InvalidTransitionError, OrdersStore, StoreError

log = logging.getLogger(__name__)
# Failures that Coinbase answers before processing a request: the order was certainly not placed.
NOT_PROCESSED = (RateLimitedError, AuthenticationError, PermissionDeniedError)
# The event that records each final status the venue reports.
_FINAL_EVENTS = {
    OrderStatus.FILLED: EventType.ORDER_FILLED,
    OrderStatus.CANCELLED: EventType.ORDER_CANCELLED,
    OrderStatus.EXPIRED: EventType.ORDER_EXPIRED,
    OrderStatus.REJECTED: EventType.ORDER_REJECTED,
    OrderStatus.FAILED: EventType.ORDER_FAILED,
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


class OrderExecutor:
    def __init__(
        self,
        broker: Broker,
        orders: OrdersStore,
        events: EventStore,
        *,
        run_id: str | None = None,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._broker = broker
        self._orders = orders
        self._events = events
        self._run_id = run_id
        self._now = now  # the bot's clock: when an order became unknown is measured on it

    def submit(self, request: OrderRequest) -> Order:
        try:
            prepared = prepare_order(request, self._broker.product(request.product_id))
        except OrderRejected as exc:
            self._events.append(
                EventType.ORDER_REJECTED,
                {
                    "client_order_id": request.client_order_id,
                    "reason": exc.reason,
                    "message": exc.message,
                    "stage": "pre-send",
                },
                run_id=self._run_id,
            )
            raise
        self._orders.add(prepared, run_id=self._run_id, time=self._now())
        self._events.append(EventType.ORDER_INTENT, {"request": prepared}, run_id=self._run_id)
        try:
            venue_order = self._broker.place_order(prepared)
        except InvalidOrderError as exc:
            self._orders.transition(prepared.client_order_id, OrderStatus.REJECTED, reject_reason=exc.reason)
            self._events.append(
                EventType.ORDER_REJECTED,
                {
                    "client_order_id": prepared.client_order_id,
                    "reason": exc.reason,
                    "message": str(exc),
                    "stage": "venue",
                },
                run_id=self._run_id,
            )
            raise
        except NOT_PROCESSED as exc:
            self._orders.transition(
                prepared.client_order_id, OrderStatus.FAILED, reject_reason=exc.reason or "NOT_SENT"
            )
            self._events.append(
                EventType.ORDER_SEND_FAILED,
                {"client_order_id": prepared.client_order_id, "error": type(exc).__name__, "message": str(exc)},
                run_id=self._run_id,
            )
            raise
        except BrokerError as exc:
            # Fate unknown: it may have reached the venue. UNKNOWN until it is found there or found absent.
            self._orders.transition(
                prepared.client_order_id, OrderStatus.UNKNOWN, time=self._now(), detail={"error": type(exc).__name__}
            )
            self._events.append(
                EventType.ORDER_UNKNOWN,
                {
                    "client_order_id": prepared.client_order_id,
                    "product_id": prepared.product_id,
                    "error": type(exc).__name__,
                    "message": str(exc),
                },
                run_id=self._run_id,
            )
            raise
        return self.record(venue_order)

    def mark_unknown(self, order: Order, why: str) -> Order:
        """A PENDING order the venue does not list (a send cut short by a crash): UNKNOWN from now, so it is
        looked up, sent again under its own id or given up on like any other."""
        moved = self._move(order.client_order_id, OrderStatus.UNKNOWN, time=self._now())
        if moved:
            self._events.append(
                EventType.ORDER_UNKNOWN,
                {"client_order_id": order.client_order_id, "product_id": order.product_id, "message": why},
                run_id=self._run_id,
            )
        return self._require(order.client_order_id)

    def not_found(self, order: Order, waited: timedelta) -> Order:
        """An order the venue has still not listed long after it was sent never reached it: FAILED."""
        if self._move(order.client_order_id, OrderStatus.FAILED, reject_reason="NOT_FOUND"):
            self._events.append(
                EventType.ORDER_NOT_FOUND,
                {
                    "client_order_id": order.client_order_id,
                    "message": f"not listed by the exchange {int(waited.total_seconds())} s after it was sent: "
                    "never placed",
                },
                run_id=self._run_id,
            )
        return self._require(order.client_order_id)

    def resend(self, order: Order) -> Order:
        """Send an order of unknown fate that the venue does not list again, under its own client order id:
        Coinbase answers a repeated id with the order it already has, so this either places it once or finds
        it. A refusal is final only once a second look shows the venue does not hold the order."""
        cid = order.client_order_id
        self._events.append(EventType.ORDER_RESENT, {"client_order_id": cid}, run_id=self._run_id)
        try:
            venue_order = self._broker.place_order(order.request)
        except InvalidOrderError as exc:
            listed = {o.client_order_id: o for o in self.venue_orders(order.product_id)}.get(cid)
            if listed is not None:  # refused as a repeat of an order it has after all: that one is the answer
                return self.record(listed)
            self._move(cid, OrderStatus.REJECTED, reject_reason=exc.reason)
            self._events.append(
                EventType.ORDER_REJECTED,
                {"client_order_id": cid, "reason": exc.reason, "message": str(exc), "stage": "venue"},
                run_id=self._run_id,
            )
            raise
        return self.record(venue_order)

    def product(self, product_id: str) -> Product:
        return self._broker.product(product_id)

    def order_book(self, product_id: str, levels: int) -> OrderBook:
        return self._broker.order_book(product_id, levels)

    def venue_positions(self) -> dict[str, Decimal]:
        """The derivatives positions the venue shows, by product."""
        return {p.product_id: p.size for p in self._broker.positions()}

    def venue_available(self) -> dict[str, Decimal]:
        """The account's available balance per currency (what a spot sell can sell)."""
        available: dict[str, Decimal] = {}
        for balance in self._broker.balances():
            available[balance.currency] = available.get(balance.currency, Decimal(0)) + balance.available
        return available

    def venue_orders(self, product_id: str, *, open_only: bool = False) -> list[Order]:
        """Every order the venue lists for a product (or its open ones): where an order of unknown fate is
        looked up by its client order id."""
        return self._broker.list_orders(product_id, open_only=open_only)

    def cancel_at_venue(self, order: Order) -> None:
        """Cancel an order the venue shows open whatever the store holds (a kill leaves the venue clean)."""
        self._events.append(
            EventType.ORDER_CANCEL_REQUESTED,
            {"client_order_id": order.client_order_id, "order_id": order.order_id, "stray": True},
            run_id=self._run_id,
        )
        self._broker.cancel_orders([order.order_id or ""])

    def resolve(self, order: Order, found: Order | None) -> Order:
        """Settle an unresolved order (PENDING after a crash, or UNKNOWN) with what the venue's listing
        showed: found, it is recorded as the venue has it; `found` None keeps it unresolved."""
        if found is None:
            return order
        self._events.append(
            EventType.ORDER_RESOLVED,
            {"client_order_id": order.client_order_id, "order_id": found.order_id, "status": found.status},
            run_id=self._run_id,
        )
        return self.record(found)

    def refresh(self, client_order_id: str) -> Order:
        """Bring a stored order up to date with the venue (status and fills)."""
        stored = self._require(client_order_id)
        if stored.order_id is None:
            raise StoreError(f"order {client_order_id} has no exchange order id yet; reconcile it by client id")
        return self.record(self._broker.get_order(stored.order_id))

    def amend(self, client_order_id: str, *, size: Decimal, limit_price: Decimal) -> Order:
        """Edit a resting limit order's size and price at the venue, then record what the venue accepted.
        An edit is not retried blind (it carries no idempotency key): on an unclear failure the order is
        read back and recorded as the venue has it."""
        stored = self._require(client_order_id)
        if stored.order_id is None or stored.is_terminal:
            raise StoreError(f"order {client_order_id} is not open at the venue; it cannot be amended")
        self._events.append(
            EventType.ORDER_AMEND_REQUESTED,
            {"client_order_id": client_order_id, "size": size, "limit_price": limit_price},
            run_id=self._run_id,
        )
        try:
            venue_order = self._broker.edit_order(stored.order_id, size=size, limit_price=limit_price)
        except InvalidOrderError as exc:
            self._events.append(
                EventType.ORDER_AMEND_REJECTED,
                {"client_order_id": client_order_id, "reason": exc.reason},
                run_id=self._run_id,
            )
            raise
        except BrokerError:
            venue_order = self._broker.get_order(stored.order_id)
        if (
            venue_order.request.size != stored.request.size
            or venue_order.request.limit_price != stored.request.limit_price
        ):
            self._orders.amend(
                client_order_id,
                replace(stored.request, size=venue_order.request.size, limit_price=venue_order.request.limit_price),
            )
            self._events.append(
                EventType.ORDER_AMENDED,
                {
                    "client_order_id": client_order_id,
                    "size": venue_order.request.size,
                    "limit_price": venue_order.request.limit_price,
                },
                run_id=self._run_id,
            )
        return self.record(venue_order)

    def cancel(self, client_order_id: str) -> Order:
        stored = self._require(client_order_id)
        if stored.is_terminal:
            return stored
        if stored.order_id is None:
            raise StoreError(f"order {client_order_id} has no exchange order id yet; reconcile it before cancelling")
        self._events.append(EventType.ORDER_CANCEL_REQUESTED, {"client_order_id": client_order_id}, run_id=self._run_id)
        self._broker.cancel_orders([stored.order_id])
        return self.refresh(client_order_id)

    def adopt(self, venue_order: Order) -> Order:
        """Take an order the exchange has and the store does not into the store, as the exchange has it."""
        self._orders.add(venue_order.request, run_id=self._run_id)
        self._events.append(
            EventType.ORDER_ADOPTED,
            {"client_order_id": venue_order.client_order_id, "order_id": venue_order.order_id},
            run_id=self._run_id,
        )
        return self.record(venue_order)

    def record(self, venue_order: Order) -> Order:
        """Apply the venue's view of an order to the store: acknowledgement, new fills, final state."""
        cid = venue_order.client_order_id
        stored = self._require(cid)
        if stored.status.is_unresolved and self._move(cid, OrderStatus.OPEN, order_id=venue_order.order_id):
            self._events.append(
                EventType.ORDER_ACKNOWLEDGED,
                {"client_order_id": cid, "order_id": venue_order.order_id},
                run_id=self._run_id,
            )
        if venue_order.filled_size > stored.filled_size and venue_order.order_id is not None:
            for fill in self._broker.fills(order_id=venue_order.order_id):
                if self._orders.add_fill(fill):
                    self._events.append(EventType.ORDER_FILL, {"fill": fill}, run_id=self._run_id)
        current = self._require(cid)
        if venue_order.status.is_terminal and current.filled_size < venue_order.filled_size:
            # The status came before all its fills: final only once they are all read, or they would never be
            # (a final order is not read again). Left open, it is read again next cycle.
            log.warning(
                "order %s is %s at the exchange with %s filled; %s of it listed in fills so far",
                cid,
                venue_order.status,
                venue_order.filled_size,
                current.filled_size,
            )
            return current
        if (
            venue_order.status.is_terminal
            and current.status is not venue_order.status
            and self._move(cid, venue_order.status, reject_reason=venue_order.reject_reason)
        ):
            self._events.append(_FINAL_EVENTS[venue_order.status], {"client_order_id": cid}, run_id=self._run_id)
        return self._require(cid)

    def _move(
        self,
        client_order_id: str,
        status: OrderStatus,
        *,
        order_id: str | None = None,
        reject_reason: str | None = None,
        time: datetime | None = None,
    ) -> bool:
        """Record a status the venue reported. Another process (the kill switch, the bot) may have recorded a
        later one first: the store keeps the later one, and this one is dropped, not raised."""
        try:
            self._orders.transition(client_order_id, status, order_id=order_id, reject_reason=reject_reason, time=time)
        except InvalidTransitionError:
            log.info("order %s: %s arrived after a later state was recorded; kept the later", client_order_id, status)
            return False
        return True

    def _require(self, client_order_id: str) -> Order:
        order = self._orders.get(client_order_id)
        if order is None:
            raise StoreError(f"no order with client order id {client_order_id} in the orders store")
        return order
