from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from gpttrader.domain import Fill, Liquidity, OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from gpttrader.store import Database, DuplicateOrderError, InvalidTransitionError, OrdersStore, StoreError

T0 = datetime(2026, 11, 24, 14, tzinfo=UTC)


def limit(cid: str = "c-1", size: str = "1.0") -> OrderRequest:
    return OrderRequest(cid, "BTC-USD", Side.BUY, OrderType.LIMIT, Decimal(size), limit_price=Decimal("100.00"))


def fill(trade_id: str, size: str, price: str, cid: str = "c-1", minutes: int = 1) -> Fill:
    return Fill(
        trade_id,
        cid,
        "BTC-USD",
        Side.BUY,
        Decimal(price),
        Decimal(size),
        Decimal("0.06"),
        Liquidity.MAKER,
        T0 + timedelta(minutes=minutes),
        order_id="ex-1",
    )


def test_intent_is_pending_and_round_trips(database: Database) -> None:
    store = OrdersStore(database)
    request = OrderRequest(
        "c-9",
        "BTC-USD",
        Side.SELL,
        OrderType.STOP_LIMIT,
        Decimal("0.25"),
        limit_price=Decimal("90.00"),
        stop_price=Decimal("91.00"),
        time_in_force=TimeInForce.GTD,
        end_time=T0 + timedelta(hours=1),
        reduce_only=True,
    )
    store.add(request, run_id="r1", time=T0)
    order = store.get("c-9")
    assert order is not None
    assert order.request == request
    assert order.status is OrderStatus.PENDING
    assert [o.client_order_id for o in store.open_orders()] == ["c-9"]
    assert store.get("nope") is None


def test_a_client_order_id_is_never_recorded_twice(database: Database) -> None:
    store = OrdersStore(database)
    store.add(limit())
    with pytest.raises(DuplicateOrderError, match="c-1 is already in the orders store"):
        store.add(limit())


def test_partial_fills_accumulate_and_replays_count_once(database: Database) -> None:
    store = OrdersStore(database)
    store.add(limit(), time=T0)
    store.transition("c-1", OrderStatus.OPEN, order_id="ex-1", time=T0)
    assert store.add_fill(fill("t1", "0.4", "100.00"))
    assert not store.add_fill(fill("t1", "0.4", "100.00"))
    order = store.get("c-1")
    assert order is not None
    assert (order.status, order.filled_size) == (OrderStatus.PARTIALLY_FILLED, Decimal("0.4"))
    assert store.add_fill(fill("t2", "0.6", "99.00", minutes=2))
    order = store.get("c-1")
    assert order is not None
    assert order.status is OrderStatus.FILLED
    assert order.filled_size == Decimal("1.0")
    assert order.average_filled_price == Decimal("99.4")
    assert order.fees == Decimal("0.12")
    assert [f.trade_id for f in store.fills("c-1")] == ["t1", "t2"]
    assert store.open_orders() == []
    statuses = [status for _, status, _ in store.history("c-1")]
    assert statuses == [OrderStatus.PENDING, OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED]


def test_overfill_is_refused_and_leaves_nothing_behind(database: Database) -> None:
    store = OrdersStore(database)
    store.add(limit(size="0.5"))
    with pytest.raises(StoreError, match="exceeds size"):
        store.add_fill(fill("t1", "0.6", "100"))
    assert store.fills() == []
    order = store.get("c-1")
    assert order is not None
    assert order.filled_size == 0


def test_fill_for_unknown_order_or_wrong_product(database: Database) -> None:
    store = OrdersStore(database)
    with pytest.raises(StoreError, match="no order with client order id c-1"):
        store.add_fill(fill("t1", "0.1", "100"))
    store.add(limit())
    wrong = Fill("t2", "c-1", "ETH-USD", Side.BUY, Decimal(1), Decimal(1), Decimal(0), Liquidity.TAKER, T0)
    with pytest.raises(StoreError, match="does not match order"):
        store.add_fill(wrong)


def test_transitions_follow_the_state_machine(database: Database) -> None:
    store = OrdersStore(database)
    store.add(limit())
    store.transition("c-1", OrderStatus.CANCELLED)
    with pytest.raises(InvalidTransitionError, match="cannot go from CANCELLED to OPEN"):
        store.transition("c-1", OrderStatus.OPEN)
    same = store.transition("c-1", OrderStatus.CANCELLED)
    assert same.status is OrderStatus.CANCELLED
    assert len(store.history("c-1")) == 2


def test_a_late_fill_is_recorded_and_the_final_status_stands(database: Database) -> None:
    store = OrdersStore(database)
    store.add(limit())
    store.transition("c-1", OrderStatus.OPEN, order_id="ex-1")
    store.transition("c-1", OrderStatus.CANCELLED)
    assert store.add_fill(fill("t1", "0.3", "100"))
    order = store.get("c-1")
    assert order is not None
    assert (order.status, order.filled_size) == (OrderStatus.CANCELLED, Decimal("0.3"))
    store.add(limit("c-2"))
    store.transition("c-2", OrderStatus.REJECTED, reject_reason="INSUFFICIENT_FUND")
    with pytest.raises(InvalidTransitionError, match="arrived for order c-2, which never executed"):
        store.add_fill(fill("t2", "0.1", "100", cid="c-2"))


def test_reject_reason_is_kept(database: Database) -> None:
    store = OrdersStore(database)
    store.add(limit())
    order = store.transition("c-1", OrderStatus.REJECTED, reject_reason="INSUFFICIENT_FUND")
    assert order.reject_reason == "INSUFFICIENT_FUND"
    assert store.history("c-1")[-1][2] == {"reject_reason": "INSUFFICIENT_FUND"}


def test_exchange_order_ids_are_unique(database: Database) -> None:
    store = OrdersStore(database)
    store.add(limit("c-1"))
    store.add(limit("c-2"))
    store.transition("c-1", OrderStatus.OPEN, order_id="ex-1")
    with pytest.raises(Exception, match="UNIQUE"):
        store.transition("c-2", OrderStatus.OPEN, order_id="ex-1")
