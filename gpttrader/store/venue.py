"""Where a simulated exchange keeps its books between runs: the dev and paper brokers' accounts.

The simulated exchange is a party of its own, so its books live in their own file
(`data/state/<profile>/venue.sqlite`), not in the bot's: a test can lose one and not the other, as a real
bot can lose its state while the exchange keeps its own. Each change is committed before the venue's
call returns.
"""

from decimal import Decimal
from typing import Any

from gpttrader.store import codec
from gpttrader.store.database import Database

VENUE_FILE = "venue.sqlite"


class VenueStore:
    def __init__(self, database: Database, name: str) -> None:
        self._db = database
        self.name = name

    def load(self) -> dict[str, Any] | None:
        """The saved books as plain values (balances, orders, holds, triggered stops, fills, sequence)."""
        with self._db.reading() as conn:
            row = conn.execute("SELECT state FROM venue_state WHERE name = ?", (self.name,)).fetchone()
        if row is None:
            return None
        data = codec.loads(row[0])
        return {
            "balances": {currency: Decimal(amount) for currency, amount in data["balances"].items()},
            "orders": {oid: codec.order_from_dict(order) for oid, order in data["orders"].items()},
            "holds": {oid: Decimal(amount) for oid, amount in data["holds"].items()},
            "triggered": set(data["triggered"]),
            "fills": [codec.fill_from_dict(fill) for fill in data["fills"]],
            "sequence": int(data["sequence"]),
            "positions": {
                pid: {key: Decimal(value) for key, value in held.items()} for pid, held in data["positions"].items()
            },
            "marks": {pid: Decimal(mark) for pid, mark in data["marks"].items()},
            "funded": {pid: codec.parse_time(moment) for pid, moment in data["funded"].items()},
        }

    def save(self, state: object) -> None:
        body = codec.dumps(state)
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO venue_state (name, state, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                (self.name, body, codec.format_time(codec.utc_now())),
            )
