"""Order execution that never loses track of an order.

Each order is quantized, written to the orders store as PENDING and announced in the event store before
it is sent. What the venue answers is recorded afterwards: the acknowledgement, its fills (once each,
by trade id) and its final state. If the send fails in a way that may or may not have reached the venue,
the order stays PENDING, which is exactly what reconciliation looks up by its client order id later;
it is never resent under a new id.
"""

import logging
from dataclasses import replace
from decimal import Decimal

from gpttrader.brokers.errors import BrokerError, InvalidOrderError
from gpttrader.brokers.protocol import Broker
from gpttrader.domain import Order, OrderRejected, OrderRequest, OrderStatus, prepare_order
from gpttrader.store import EventStore, OrdersStore, StoreError

log = logging.getLogger(__name__)


class OrderExecutor:
    def __init__(self, broker: Broker, orders: OrdersStore, events: EventStore, *, run_id: str | None = None) -> None:
        self._broker = broker
        self._orders = orders
        self._events = events
        self._run_id = run_id

    def submit(self, request: OrderRequest) -> Order:
        try:
            prepared = prepare_order(request, self._broker.product(request.product_id))
        except OrderRejected as exc:
            self._events.append(
                "order.rejected",
                {
                    "client_order_id": request.client_order_id,
                    "reason": exc.reason,
                    "message": exc.message,
                    "stage": "pre-send",
                },
                run_id=self._run_id,
            )
            raise
        self._orders.add(prepared, run_id=self._run_id)
        self._events.append("order.intent", {"request": prepared}, run_id=self._run_id)
        try:
            venue_order = self._broker.place_order(prepared)
        except InvalidOrderError as exc:
            self._orders.transition(prepared.client_order_id, OrderStatus.REJECTED, reject_reason=exc.reason)
            self._events.append(
                "order.rejected",
                {
                    "client_order_id": prepared.client_order_id,
                    "reason": exc.reason,
                    "message": str(exc),
                    "stage": "venue",
                },
                run_id=self._run_id,
            )
            raise
        except BrokerError as exc:
            # Fate unknown: it may have reached the venue. Leave it PENDING for reconciliation.
            self._events.append(
                "order.send_failed",
                {"client_order_id": prepared.client_order_id, "error": type(exc).__name__, "message": str(exc)},
                run_id=self._run_id,
            )
            raise
        return self.record(venue_order)

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
            "order.amend_requested",
            {"client_order_id": client_order_id, "size": size, "limit_price": limit_price},
            run_id=self._run_id,
        )
        try:
            venue_order = self._broker.edit_order(stored.order_id, size=size, limit_price=limit_price)
        except InvalidOrderError as exc:
            self._events.append(
                "order.amend_rejected", {"client_order_id": client_order_id, "reason": exc.reason}, run_id=self._run_id
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
                "order.amended",
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
        self._events.append("order.cancel_requested", {"client_order_id": client_order_id}, run_id=self._run_id)
        self._broker.cancel_orders([stored.order_id])
        return self.refresh(client_order_id)

    def adopt(self, venue_order: Order) -> Order:
        """Take an order the exchange has and the store does not into the store, as the exchange has it."""
        self._orders.add(venue_order.request, run_id=self._run_id)
        self._events.append(
            "order.adopted",
            {"client_order_id": venue_order.client_order_id, "order_id": venue_order.order_id},
            run_id=self._run_id,
        )
        return self.record(venue_order)

    def record(self, venue_order: Order) -> Order:
        """Apply the venue's view of an order to the store: acknowledgement, new fills, final state."""
        cid = venue_order.client_order_id
        stored = self._require(cid)
        if stored.status is OrderStatus.PENDING:
            self._orders.transition(cid, OrderStatus.OPEN, order_id=venue_order.order_id)
            self._events.append(
                "order.acknowledged", {"client_order_id": cid, "order_id": venue_order.order_id}, run_id=self._run_id
            )
        if venue_order.filled_size > stored.filled_size and venue_order.order_id is not None:
            for fill in self._broker.fills(order_id=venue_order.order_id):
                if self._orders.add_fill(fill):
                    self._events.append("order.fill", {"fill": fill}, run_id=self._run_id)
        current = self._require(cid)
        if venue_order.status.is_terminal and current.status is not venue_order.status:
            current = self._orders.transition(cid, venue_order.status, reject_reason=venue_order.reject_reason)
            self._events.append(
                f"order.{venue_order.status.value.lower()}", {"client_order_id": cid}, run_id=self._run_id
            )
        return current

    def _require(self, client_order_id: str) -> Order:
        order = self._orders.get(client_order_id)
        if order is None:
            raise StoreError(f"no order with client order id {client_order_id} in the orders store")
        return order
