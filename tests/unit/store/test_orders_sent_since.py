"""The orders store's read-back of the orders written since a time: what the order-rate limits count, so
that a restart does not reset them (issue 14)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from gpttrader.domain import OrderRequest, OrderStatus, OrderType, Side
from gpttrader.store import Database, OrdersStore

NOW = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)


def test_the_orders_written_since_a_time_oldest_first_whatever_became_of_them(database: Database) -> None:
    store = OrdersStore(database)
    for i, seconds in enumerate((90, 60, 59, 10)):
        request = OrderRequest(f"o-{i}", "BTC-USD", Side.BUY, OrderType.MARKET, Decimal(1))
        store.add(request, time=NOW - timedelta(seconds=seconds))
    store.transition("o-2", OrderStatus.REJECTED, reject_reason="INSUFFICIENT_FUND")
    since = NOW - timedelta(seconds=60)
    assert store.sent_since(since) == [
        ("o-1", "BTC-USD", since),
        ("o-2", "BTC-USD", NOW - timedelta(seconds=59)),
        ("o-3", "BTC-USD", NOW - timedelta(seconds=10)),
    ]
    assert store.sent_since(NOW) == []


def test_a_time_in_another_zone_is_compared_as_the_same_instant(database: Database) -> None:
    store = OrdersStore(database)
    store.add(OrderRequest("o-1", "BTC-USD", Side.BUY, OrderType.MARKET, Decimal(1)), time=NOW)
    east = NOW.astimezone(ZoneInfo("Asia/Tokyo"))
    assert [cid for cid, _, _ in store.sent_since(east)] == ["o-1"]
    assert store.sent_since(east + timedelta(microseconds=1)) == []
