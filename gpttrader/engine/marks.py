"""The latest price of each product and when it was seen: from the feed's ticker when it streams, from a
REST quote when it does not. Its age is what the stale-data guard and the freshness check read."""

import math
import threading
from datetime import datetime
from decimal import Decimal


class MarkBook:
    def __init__(self) -> None:
        self._marks: dict[str, tuple[Decimal, datetime]] = {}
        self._lock = threading.Lock()

    def update(self, product_id: str, price: Decimal, at: datetime) -> None:
        """Keep the newer of the known mark and this one (a late REST answer does not undo a fresher tick)."""
        with self._lock:
            known = self._marks.get(product_id)
            if known is None or at >= known[1]:
                self._marks[product_id] = (price, at)

    def price(self, product_id: str) -> Decimal | None:
        with self._lock:
            known = self._marks.get(product_id)
        return None if known is None else known[0]

    def time(self, product_id: str) -> datetime | None:
        with self._lock:
            known = self._marks.get(product_id)
        return None if known is None else known[1]

    def age(self, product_id: str, now: datetime) -> float:
        """Seconds since the product's last mark (infinite when there has been none)."""
        seen = self.time(product_id)
        return math.inf if seen is None else max((now - seen).total_seconds(), 0.0)

    def prices(self) -> dict[str, Decimal]:
        with self._lock:
            return {pid: price for pid, (price, _) in self._marks.items()}
