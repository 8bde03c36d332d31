"""How many durable writes a second the state database takes on this machine.

Every write is committed with synchronous=FULL before it returns, so this is the cost of the durability
promise: it bounds how many orders and events a live session can record a second.
"""

import resource
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from gpttrader.domain import Fill, Liquidity, OrderRequest, OrderStatus, OrderType, Side
from gpttrader.domain.events import EventType
from gpttrader.store import Database, EventStore, OrdersStore


def main(events: int = 2000, orders: int = 500) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Database(Path(folder) / "bench.sqlite")
        store = EventStore(db)
        start = time.perf_counter()
        for i in range(events):
            snapshot = {
                "equity": Decimal(i),
                "cash": Decimal(0),
                "positions": {},
                "marks": {"BTC-USD": Decimal("100.01")},
                "state": "active",
            }
            store.append(EventType.ACCOUNT_SNAPSHOT, snapshot)
        elapsed = time.perf_counter() - start
        print(f"event appends: {events / elapsed:,.0f}/s ({elapsed / events * 1e6:,.0f} us each)")

        orders_store = OrdersStore(db)
        moment = datetime.now(UTC)
        start = time.perf_counter()
        for i in range(orders):
            cid = f"c-{i}"
            orders_store.add(
                OrderRequest(cid, "BTC-USD", Side.BUY, OrderType.LIMIT, Decimal("0.01"), limit_price=Decimal("100.00"))
            )
            orders_store.transition(cid, OrderStatus.OPEN, order_id=f"ex-{i}")
            orders_store.add_fill(
                Fill(
                    f"t-{i}",
                    cid,
                    "BTC-USD",
                    Side.BUY,
                    Decimal("100.00"),
                    Decimal("0.01"),
                    Decimal("0.004"),
                    Liquidity.MAKER,
                    moment,
                    order_id=f"ex-{i}",
                )
            )
        elapsed = time.perf_counter() - start
        print(
            f"order lifecycles (intent, ack, fill): {orders / elapsed:,.0f}/s ({elapsed / orders * 1e3:,.2f} ms each)"
        )
        start = time.perf_counter()
        count = sum(1 for _ in store.read())
        print(f"event reads: {count / (time.perf_counter() - start):,.0f}/s")
        db.close()
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.1f} MB")


if __name__ == "__main__":
    main()
