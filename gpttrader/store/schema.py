"""The one schema of the state database, as numbered forward migrations.

The version lives in SQLite's `user_version`. Each migration runs in its own transaction together with
the version bump, so a crash mid-migration leaves the previous version intact. A database newer than
this code is refused rather than written to with assumptions it does not meet.
"""

import sqlite3
from dataclasses import dataclass

from gpttrader.store.errors import StoreError


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "append-only event store",
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            time TEXT NOT NULL,
            type TEXT NOT NULL,
            run_id TEXT,
            payload TEXT NOT NULL
        );
        CREATE INDEX events_type ON events(type, id);
        CREATE INDEX events_run ON events(run_id, id);
        CREATE TRIGGER events_no_update BEFORE UPDATE ON events
            BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
        CREATE TRIGGER events_no_delete BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
        """,
    ),
    Migration(
        2,
        "orders keyed by client order id, their status transitions and fills",
        """
        CREATE TABLE orders (
            client_order_id TEXT PRIMARY KEY,
            product_id TEXT NOT NULL,
            side TEXT NOT NULL,
            order_type TEXT NOT NULL,
            request TEXT NOT NULL,
            status TEXT NOT NULL,
            order_id TEXT,
            filled_size TEXT NOT NULL,
            average_filled_price TEXT,
            fees TEXT NOT NULL,
            reject_reason TEXT,
            run_id TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX orders_status ON orders(status);
        CREATE UNIQUE INDEX orders_order_id ON orders(order_id) WHERE order_id IS NOT NULL;
        CREATE TABLE order_transitions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            client_order_id TEXT NOT NULL REFERENCES orders(client_order_id),
            time TEXT NOT NULL,
            status TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        CREATE INDEX order_transitions_order ON order_transitions(client_order_id, id);
        CREATE TABLE fills (
            trade_id TEXT PRIMARY KEY,
            client_order_id TEXT NOT NULL REFERENCES orders(client_order_id),
            order_id TEXT,
            product_id TEXT NOT NULL,
            side TEXT NOT NULL,
            price TEXT NOT NULL,
            size TEXT NOT NULL,
            fee TEXT NOT NULL,
            liquidity TEXT NOT NULL,
            time TEXT NOT NULL
        );
        CREATE INDEX fills_order ON fills(client_order_id);
        """,
    ),
    Migration(
        3,
        "the books of a simulated exchange (the dev and paper brokers' accounts)",
        """
        CREATE TABLE venue_state (
            name TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        """,
    ),
    Migration(
        4,
        "the notebook run registry",
        """
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            parameters TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,
            output TEXT,
            html TEXT,
            error TEXT
        );
        CREATE INDEX runs_name ON runs(name, id);
        """,
    ),
    Migration(
        5,
        "the scheduled job a run belongs to",
        """
        ALTER TABLE runs ADD COLUMN job TEXT;
        CREATE INDEX runs_job ON runs(job, id);
        """,
    ),
)

SCHEMA_VERSION = MIGRATIONS[-1].version


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the database forward to `target`; returns the version it was at before."""
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"the state database has schema version {current}, newer than this gpttrader knows "
            f"({SCHEMA_VERSION}); upgrade gpttrader before opening it"
        )
    for migration in MIGRATIONS:
        if current < migration.version <= target:
            # executescript() would commit on its own; run statements one by one inside our transaction.
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(migration.sql):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {migration.version}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
    return current


def _statements(sql: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies (which contain ';') whole."""
    statements: list[str] = []
    buffer = ""
    for part in sql.split(";"):
        buffer += part + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n;"):
                statements.append(buffer.strip())
            buffer = ""
    return statements
