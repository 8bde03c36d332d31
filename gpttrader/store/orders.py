"""The orders store: each order keyed by its client order id, with every status change and fill.

An order is written here (PENDING) before it is sent. After a crash, a PENDING order is one whose fate
is unknown and must be looked up at the venue by its client order id, never resent under a new one.
Fills are keyed by trade id, so a fill reported twice (user channel, then REST polling) counts once.
"""

import sqlite3
from datetime import datetime
from decimal import Decimal
from typing import Any

from gpttrader.domain import (
    DomainError,
    Fill,
    Liquidity,
    Order,
    OrderRequest,
    OrderStatus,
    Side,
)
from gpttrader.store import codec
from gpttrader.store.database import Database
from gpttrader.store.errors import DuplicateOrderError, InvalidTransitionError, StoreError

_ORDER_COLUMNS = (
    "request, status, order_id, filled_size, average_filled_price, fees, reject_reason, created_at, updated_at"
)


class OrdersStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add(self, request: OrderRequest, *, run_id: str | None = None, time: datetime | None = None) -> Order:
        """Record an intent as PENDING; refuses a client order id that exists, whatever its state."""
        moment = time or codec.utc_now()
        order = Order(request=request, status=OrderStatus.PENDING, created_at=moment, updated_at=moment)
        stamp = codec.format_time(moment)
        try:
            with self._db.transaction() as conn:
                conn.execute(
                    "INSERT INTO orders (client_order_id, product_id, side, order_type, request, status, "
                    "filled_size, fees, run_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, '0', '0', ?, ?, ?)",
                    (
                        request.client_order_id,
                        request.product_id,
                        request.side.value,
                        request.order_type.value,
                        codec.dumps(request),
                        OrderStatus.PENDING.value,
                        run_id,
                        stamp,
                        stamp,
                    ),
                )
                _log_transition(conn, request.client_order_id, stamp, OrderStatus.PENDING, {"event": "intent"})
        except sqlite3.IntegrityError:
            raise DuplicateOrderError(
                f"client order id {request.client_order_id} is already in the orders store"
            ) from None
        return order

    def transition(
        self,
        client_order_id: str,
        status: OrderStatus,
        *,
        order_id: str | None = None,
        reject_reason: str | None = None,
        time: datetime | None = None,
        detail: dict[str, Any] | None = None,
    ) -> Order:
        """Move an order to `status` as the venue reported it; a repeat of the current status changes nothing."""
        stamp = codec.format_time(time or codec.utc_now())
        with self._db.transaction() as conn:
            order = _require(conn, client_order_id)
            if status is order.status and (order_id is None or order_id == order.order_id):
                return order
            if not order.status.can_become(status):
                raise InvalidTransitionError(f"order {client_order_id} cannot go from {order.status} to {status}")
            new_order_id = order_id or order.order_id
            conn.execute(
                "UPDATE orders SET status = ?, order_id = ?, reject_reason = COALESCE(?, reject_reason), "
                "updated_at = ? WHERE client_order_id = ?",
                (status.value, new_order_id, reject_reason, stamp, client_order_id),
            )
            _log_transition(
                conn,
                client_order_id,
                stamp,
                status,
                {**(detail or {}), **({"reject_reason": reject_reason} if reject_reason else {})},
            )
            return _require(conn, client_order_id)

    def amend(self, client_order_id: str, request: OrderRequest, *, time: datetime | None = None) -> Order:
        """Record the venue's acceptance of an edit: the order's size and limit price are now `request`'s."""
        stamp = codec.format_time(time or codec.utc_now())
        with self._db.transaction() as conn:
            order = _require(conn, client_order_id)
            if request.client_order_id != client_order_id or request.product_id != order.product_id:
                raise StoreError(f"an amendment of {client_order_id} must keep its client order id and product")
            if order.status.is_terminal:
                raise InvalidTransitionError(f"order {client_order_id} is {order.status}; it cannot be amended")
            conn.execute(
                "UPDATE orders SET request = ?, updated_at = ? WHERE client_order_id = ?",
                (codec.dumps(request), stamp, client_order_id),
            )
            _log_transition(
                conn,
                client_order_id,
                stamp,
                order.status,
                {"event": "amended", "size": request.size, "limit_price": request.limit_price},
            )
            return _require(conn, client_order_id)

    def add_fill(self, fill: Fill) -> bool:
        """Apply a fill once; returns False (and changes nothing) when its trade id was seen before."""
        stamp = codec.format_time(fill.time)
        with self._db.transaction() as conn:
            order = _require(conn, fill.client_order_id)
            inserted = conn.execute(
                "INSERT OR IGNORE INTO fills (trade_id, client_order_id, order_id, product_id, side, price, size, "
                "fee, liquidity, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    fill.trade_id,
                    fill.client_order_id,
                    fill.order_id,
                    fill.product_id,
                    fill.side.value,
                    str(fill.price),
                    str(fill.size),
                    str(fill.fee),
                    fill.liquidity.value,
                    stamp,
                ),
            ).rowcount
            if not inserted:
                return False
            if fill.product_id != order.product_id or fill.side is not order.side:
                raise StoreError(f"fill {fill.trade_id} does not match order {fill.client_order_id}")
            filled = order.filled_size + fill.size
            average = ((order.average_filled_price or Decimal(0)) * order.filled_size + fill.notional) / filled
            if order.status in (OrderStatus.REJECTED, OrderStatus.FAILED):
                raise InvalidTransitionError(
                    f"fill {fill.trade_id} arrived for order {fill.client_order_id}, "
                    f"which never executed ({order.status})"
                )
            # A fill can be reported after the order's end (a cancel racing a fill, REST fills lagging the
            # status): it is recorded, never lost, and the final status stands.
            status = (
                order.status
                if order.status.is_terminal
                else OrderStatus.FILLED
                if filled >= order.request.size
                else OrderStatus.PARTIALLY_FILLED
            )
            try:
                Order(
                    request=order.request,
                    status=status,
                    created_at=order.created_at,
                    updated_at=fill.time,
                    filled_size=filled,
                    average_filled_price=average,
                    fees=order.fees + fill.fee,
                )
            except DomainError as exc:
                raise StoreError(f"fill {fill.trade_id} is inconsistent with its order: {exc}") from None
            conn.execute(
                "UPDATE orders SET status = ?, order_id = COALESCE(order_id, ?), filled_size = ?, "
                "average_filled_price = ?, fees = ?, updated_at = ? WHERE client_order_id = ?",
                (
                    status.value,
                    fill.order_id,
                    str(filled),
                    str(average),
                    str(order.fees + fill.fee),
                    stamp,
                    fill.client_order_id,
                ),
            )
            _log_transition(
                conn,
                fill.client_order_id,
                stamp,
                status,
                {"trade_id": fill.trade_id, "size": fill.size, "price": fill.price},
            )
            return True

    def get(self, client_order_id: str) -> Order | None:
        with self._db.reading() as conn:
            return _load(conn, client_order_id)

    def open_orders(self) -> list[Order]:
        """Orders not in a final state, PENDING ones included: the set reconciliation starts from."""
        open_statuses = [s.value for s in OrderStatus if not s.is_terminal]
        with self._db.reading() as conn:
            rows = conn.execute(
                f"SELECT {_ORDER_COLUMNS} FROM orders WHERE status IN ({', '.join('?' for _ in open_statuses)}) "
                "ORDER BY created_at, client_order_id",
                open_statuses,
            ).fetchall()
        return [_order(row) for row in rows]

    def starting_with(self, prefix: str) -> list[Order]:
        """Orders whose client order id starts with `prefix` (an entry's exits), oldest first."""
        with self._db.reading() as conn:
            rows = conn.execute(
                f"SELECT {_ORDER_COLUMNS} FROM orders WHERE substr(client_order_id, 1, ?) = ? "
                "ORDER BY created_at, client_order_id",
                (len(prefix), prefix),
            ).fetchall()
        return [_order(row) for row in rows]

    def sent_since(self, since: datetime) -> list[tuple[str, str, datetime]]:
        """(client order id, product id, time written) of every order written at or after `since`, whatever
        became of it, oldest first: what the order-rate limits count, read back after a restart. Only the key
        columns are read (no request is decoded), since it runs before every decided order."""
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT client_order_id, product_id, created_at FROM orders WHERE created_at >= ? "
                "ORDER BY created_at, client_order_id",
                (codec.format_time(since),),
            ).fetchall()
        return [(cid, pid, codec.parse_time(at)) for cid, pid, at in rows]

    def all_orders(self) -> list[Order]:
        with self._db.reading() as conn:
            rows = conn.execute(f"SELECT {_ORDER_COLUMNS} FROM orders ORDER BY created_at, client_order_id").fetchall()
        return [_order(row) for row in rows]

    def fills(self, client_order_id: str | None = None, *, as_recorded: bool = False) -> list[Fill]:
        """Fills in the exchange's time order, or (`as_recorded`) in the order this store learned of them:
        the order the bot decided in, which is what books must follow when two processes' clocks disagree
        (a dev bot on a fast clock, then the kill switch on the wall clock)."""
        query = (
            "SELECT trade_id, client_order_id, order_id, product_id, side, price, size, fee, liquidity, time FROM fills"
        )
        params: tuple[str, ...] = ()
        if client_order_id is not None:
            query += " WHERE client_order_id = ?"
            params = (client_order_id,)
        with self._db.reading() as conn:
            rows = conn.execute(
                query + (" ORDER BY rowid" if as_recorded else " ORDER BY time, trade_id"), params
            ).fetchall()
        return [
            Fill(
                trade_id=r[0],
                client_order_id=r[1],
                order_id=r[2],
                product_id=r[3],
                side=Side(r[4]),
                price=Decimal(r[5]),
                size=Decimal(r[6]),
                fee=Decimal(r[7]),
                liquidity=Liquidity(r[8]),
                time=codec.parse_time(r[9]),
            )
            for r in rows
        ]

    def history(self, client_order_id: str) -> list[tuple[datetime, OrderStatus, dict[str, Any]]]:
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT time, status, detail FROM order_transitions WHERE client_order_id = ? ORDER BY id",
                (client_order_id,),
            ).fetchall()
        return [(codec.parse_time(t), OrderStatus(s), codec.loads(d)) for t, s, d in rows]


def _log_transition(
    conn: sqlite3.Connection, client_order_id: str, stamp: str, status: OrderStatus, detail: dict[str, Any]
) -> None:
    conn.execute(
        "INSERT INTO order_transitions (client_order_id, time, status, detail) VALUES (?, ?, ?, ?)",
        (client_order_id, stamp, status.value, codec.dumps(detail)),
    )


def _require(conn: sqlite3.Connection, client_order_id: str) -> Order:
    order = _load(conn, client_order_id)
    if order is None:
        raise StoreError(f"no order with client order id {client_order_id} in the orders store")
    return order


def _load(conn: sqlite3.Connection, client_order_id: str) -> Order | None:
    row = conn.execute(f"SELECT {_ORDER_COLUMNS} FROM orders WHERE client_order_id = ?", (client_order_id,)).fetchone()
    return None if row is None else _order(row)


def _order(row: tuple[Any, ...]) -> Order:
    return Order(
        request=codec.request_from_dict(codec.loads(row[0])),
        status=OrderStatus(row[1]),
        order_id=row[2],
        filled_size=Decimal(row[3]),
        average_filled_price=None if row[4] is None else Decimal(row[4]),
        fees=Decimal(row[5]),
        reject_reason=row[6],
        created_at=codec.parse_time(row[7]),
        updated_at=codec.parse_time(row[8]),
    )
