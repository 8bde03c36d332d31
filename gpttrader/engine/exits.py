"""Exits that always protect: the take-profit and stop-loss bracket planned for an entry, and what it needs
placed so that every part of the entry that filled is covered while the position lasts.

An entry's exits are orders of their own (`<entry id>-x<n>`), one for each part of the entry covered in
turn: a part that filled is protected as soon as it is seen, not once the entry is done (an entry that
fills in part and rests would otherwise leave what filled without a stop). An exit whose placement fails
leaves nothing live, so the same need is found again next cycle: a retry. The exits of a product, with the
orders working on their side (a strategy's resting sell), never cover more than the position holds (a
reversal, on futures; coins the exchange already holds, on spot), so when the position shrinks by other
means they are cancelled and placed again at what is left. A plan ends, recorded, once its entry is done and
the position it opened is gone or its exits have filled.
"""

from collections.abc import Callable
from decimal import Decimal

from gpttrader.domain import Order, OrderRequest, OrderType, Product, Side
from gpttrader.domain.client_ids import ClientIds
from gpttrader.domain.events import EventType
from gpttrader.engine.order_manager import ExitPlan, exit_size
from gpttrader.engine.portfolio import Portfolio
from gpttrader.store import EventStore, OrdersStore


def is_exit(order: Order) -> bool:
    return order.request.order_type is OrderType.BRACKET and order.request.reduce_only


def live_exits(open_orders: list[Order], product_id: str) -> list[Order]:
    return [o for o in open_orders if o.product_id == product_id and is_exit(o)]


def covered(exits: list[Order]) -> Decimal:
    """What live exits still hold to sell (or buy back)."""
    return sum((o.request.size - o.filled_size for o in exits), Decimal(0))


def working_on(open_orders: list[Order], product_id: str, side: Side) -> Decimal:
    """What the product's open orders on the exit's side (exits and others: a strategy's resting sell) may
    still take out of the position: exits placed beside them cover only the rest."""
    return covered([o for o in open_orders if o.product_id == product_id and o.side is side])


class ExitBook:
    def __init__(self, orders: OrdersStore, events: EventStore, ids: ClientIds, *, run_id: str | None) -> None:
        self._orders, self._events, self._ids, self._run_id = orders, events, ids, run_id
        done = {e.payload["client_order_id"] for e in events.read(types=[EventType.ORDER_EXITS_DONE])}
        self.plans: dict[str, ExitPlan] = {
            e.payload["client_order_id"]: ExitPlan(Decimal(e.payload["take_profit"]), Decimal(e.payload["stop_loss"]))
            for e in events.read(types=[EventType.ORDER_EXITS_PLANNED])
            if e.payload["client_order_id"] not in done
        }
        self.failures: dict[str, int] = {}  # entry -> placements in a row that failed
        self.unprotected: dict[str, str] = {
            e.payload["client_order_id"]: e.payload["message"]
            for e in events.read(types=[EventType.ORDER_EXIT_UNPLACED])
            if e.payload["client_order_id"] in self.plans
        }

    def plan(self, entry_id: str, plan: ExitPlan) -> None:
        """Recorded before the entry is sent: a restart still protects what it fills."""
        self.plans[entry_id] = plan
        self._events.append(
            EventType.ORDER_EXITS_PLANNED,
            {"client_order_id": entry_id, "take_profit": plan.take_profit, "stop_loss": plan.stop_loss},
            run_id=self._run_id,
        )

    def needed(self, portfolio: Portfolio, product: Callable[[str], Product]) -> list[tuple[str, OrderRequest]]:
        """The exits to place now (with their entry's id), oldest entry first; ends the plans that are over.
        `product` finds any product, one no longer in the profile's symbols included (its entry still fills)."""
        open_orders = self._orders.open_orders()
        protected: dict[str, Decimal] = {}
        requests = []
        for entry_id, plan in list(self.plans.items()):
            entry = self._orders.get(entry_id)
            if entry is None:  # refused before it was written: nothing will fill
                self._end(entry_id, "the entry was never placed")
                continue
            traded = product(entry.product_id)
            exits = self._orders.starting_with(self._ids.exit_stem(entry_id))
            consumed = sum((o.filled_size for o in exits), Decimal(0))
            live = covered([o for o in exits if not o.is_terminal])
            held = portfolio.size(entry.product_id) * (1 if entry.side is Side.BUY else -1)
            if entry.is_terminal and not live and (held <= 0 or consumed >= entry.filled_size):
                self._end(entry_id, "the position it opened is closed")
                continue
            if entry.product_id not in protected:
                protected[entry.product_id] = working_on(open_orders, entry.product_id, entry.side.opposite)
            room = held - protected[entry.product_id]
            size = exit_size(entry.filled_size - consumed - live, room, traded, plan.limit(traded, entry.side))
            if not size:
                continue
            protected[entry.product_id] += size
            exit_id = self._ids.exit(entry_id, len(exits) + 1)
            requests.append((entry_id, plan.order(exit_id, traded, entry.side, size)))
        return requests

    def placed(self, entry_id: str) -> None:
        self.failures.pop(entry_id, None)
        self.unprotected.pop(entry_id, None)

    def failed(self, entry_id: str, why: str, attempts: int) -> str | None:
        """Count a failed placement; returns the message to raise once the attempts are used up."""
        self.failures[entry_id] = self.failures.get(entry_id, 0) + 1
        if self.failures[entry_id] < attempts or entry_id in self.unprotected:
            return None
        message = f"exit of {entry_id} not placed after {self.failures[entry_id]} attempts: {why}"
        self.unprotected[entry_id] = message
        self._events.append(
            EventType.ORDER_EXIT_UNPLACED, {"client_order_id": entry_id, "message": message}, run_id=self._run_id
        )
        return message

    def _end(self, entry_id: str, why: str) -> None:
        del self.plans[entry_id]
        self.failures.pop(entry_id, None)
        self.unprotected.pop(entry_id, None)
        self._events.append(
            EventType.ORDER_EXITS_DONE, {"client_order_id": entry_id, "message": why}, run_id=self._run_id
        )
