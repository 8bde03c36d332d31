"""Durable state in SQLite (WAL): the append-only event store and the orders store."""

from gpttrader.store.database import DATABASE_FILE, Database
from gpttrader.store.errors import DuplicateOrderError, InvalidTransitionError, StoreError
from gpttrader.store.events import Event, EventStore
from gpttrader.store.orders import OrdersStore
from gpttrader.store.schema import SCHEMA_VERSION

__all__ = [
    "DATABASE_FILE",
    "SCHEMA_VERSION",
    "Database",
    "DuplicateOrderError",
    "Event",
    "EventStore",
    "InvalidTransitionError",
    "OrdersStore",
    "StoreError",
]
