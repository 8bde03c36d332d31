import sqlite3
from pathlib import Path

import pytest

from gpttrader.domain.events import EventType
from gpttrader.store import SCHEMA_VERSION, Database, EventStore, OrdersStore, StoreError
from gpttrader.store.schema import MIGRATIONS, migrate, schema_version


def test_new_database_is_at_the_latest_version_in_wal_mode(tmp_path: Path) -> None:
    db = Database(tmp_path / "s.sqlite")
    db.close()
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    assert schema_version(conn) == SCHEMA_VERSION == MIGRATIONS[-1].version
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migration_from_version_1_keeps_events(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, target=1) == 0
    conn.execute(
        "INSERT INTO events (time, type, run_id, payload) VALUES "
        "('2026-01-01T00:00:00.000000+00:00', 'bot.paused', NULL, '{\"operator\": \"ops\"}')"
    )
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'orders'").fetchone() is None
    conn.close()

    db = Database(path)
    assert [e.type for e in EventStore(db).tail()] == [EventType.BOT_PAUSED]
    assert OrdersStore(db).open_orders() == []
    db.close()
    assert schema_version(sqlite3.connect(path)) == SCHEMA_VERSION


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}, newer than this gpttrader knows"):
        Database(path)


def test_a_failing_migration_leaves_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "half.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=1)
    conn.execute("CREATE TABLE orders (x)")  # collides with migration 2
    with pytest.raises(sqlite3.OperationalError, match="already exists"):
        migrate(conn)
    assert schema_version(conn) == 1
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'fills'").fetchone() is None
