import sqlite3
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from gpttrader.config import Secret
from gpttrader.domain import OrderType, Side
from gpttrader.domain.events import EventType
from gpttrader.store import Database, EventStore


def test_append_and_tail_in_order(database: Database) -> None:
    store = EventStore(database)
    for i in range(30):
        store.append(EventType.FEED_RESYNC, {"message": str(i)}, run_id="r1")
    tail = store.tail(5)
    assert [e.payload["message"] for e in tail] == ["25", "26", "27", "28", "29"]
    assert [e.id for e in tail] == sorted(e.id for e in tail)
    assert store.count() == 30


def test_payload_types_round_trip_as_exact_strings(database: Database) -> None:
    store = EventStore(database)
    moment = datetime(2026, 11, 24, 14, 0, 0, 123456, tzinfo=UTC)
    decision = {
        "bar_time": moment,
        "product_id": "BTC-USD",
        "side": Side.BUY,
        "size": Decimal("0.010"),
        "order_type": OrderType.MARKET,
        "client_order_id": "c1",
        "mark": Decimal("100.10"),
        "retry": False,
        "expires_at": None,
    }
    event = store.append(EventType.STRATEGY_DECISION, decision, time=moment)
    assert event.payload == {
        **decision,
        "bar_time": "2026-11-24T14:00:00.123456+00:00",
        "side": "BUY",
        "size": "0.010",
        "order_type": "MARKET",
        "mark": "100.10",
    }
    assert store.tail(1)[0] == event
    assert event.time == moment


def test_filter_by_type_and_run(database: Database) -> None:
    store = EventStore(database)
    store.append(EventType.BOT_PAUSED, {"operator": "ops"}, run_id="r1")
    store.append(EventType.BOT_RESUMED, {"operator": "ops"}, run_id="r1")
    store.append(EventType.BOT_PAUSED, {"operator": "ops"}, run_id="r2")
    assert [e.type for e in store.tail(10, types=[EventType.BOT_PAUSED])] == [EventType.BOT_PAUSED] * 2
    assert [e.run_id for e in store.read(types=[EventType.BOT_PAUSED], run_id="r2")] == ["r2"]


def test_read_pages_through_everything(database: Database) -> None:
    store = EventStore(database)
    for i in range(25):
        store.append(EventType.FEED_RESYNC, {"message": str(i)})
    assert [e.payload["message"] for e in store.read(batch=7)] == [str(i) for i in range(25)]
    assert [e.payload["message"] for e in store.read(after_id=20)] == ["20", "21", "22", "23", "24"]


def test_events_are_append_only(database: Database) -> None:
    EventStore(database).append(EventType.BOT_PAUSED, {"operator": "ops"})
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), database.transaction() as conn:
        conn.execute("UPDATE events SET type = 'y'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), database.transaction() as conn:
        conn.execute("DELETE FROM events")


def test_secrets_never_reach_the_database(database: Database) -> None:
    secret = Secret("a-private-key-that-leaked")
    store = EventStore(database)
    store.append(
        EventType.BOT_CYCLE_ERROR,
        {
            "message": f"auth failed with {secret.reveal()}",
            "error": secret,
            "policy": "Authorization: Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
        },
    )
    raw = database.path.read_bytes() + database.path.with_name(database.path.name + "-wal").read_bytes()
    assert b"a-private-key-that-leaked" not in raw
    assert b"eyJzdWIiOiJ4In0" not in raw
    assert store.tail(1)[0].payload["error"] == "**********"


def test_naive_times_and_unstorable_values_are_refused(database: Database) -> None:
    store = EventStore(database)
    with pytest.raises(ValueError, match="naive datetime"):
        store.append(EventType.BOT_PAUSED, {"operator": "ops"}, time=datetime(2026, 1, 1))
    with pytest.raises(TypeError, match="cannot store a object"):
        store.append(EventType.BOT_PAUSED, {"operator": object()})
    assert store.count() == 0
