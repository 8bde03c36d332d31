"""Reconciliation: the orders store and the bot's positions against what the exchange says, at start-up
and every few cycles.

- An order still PENDING (written, perhaps sent, never acknowledged) or UNKNOWN (a send that ended without
  a definite answer) is looked up by its client order id; found, it is brought up to date (status, fills);
  not found, it is UNKNOWN: the exchange may list it late, so the running bot keeps looking, sends it again
  under its own id while it is young, and only then gives it up (`ExecutionCoordinator.resolve_unknown`).
  An answer that cannot be read (a listing without its `orders`) fails the reconciliation: nothing is
  marked from it.
- Open orders are refreshed: what filled or was cancelled while the bot was down is recorded, each fill
  once (by trade id).
- Open orders the store does not know are cancelled or adopted, by policy.
- Positions: the bot's (from its fills) must be held by the account. A spot position larger than the
  account's balance of that currency, or a derivatives position the exchange does not show, cannot be
  explained: trading halts (fails closed), with a message saying what differs.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from gpttrader.brokers.protocol import Broker
from gpttrader.domain import OrderStatus, Product
from gpttrader.engine.execution import OrderExecutor
from gpttrader.engine.portfolio import Portfolio
from gpttrader.risk import LiveRiskManager, TradingState
from gpttrader.store import EventStore, OrdersStore


@dataclass
class ReconcileReport:
    refreshed: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)  # PENDING or UNKNOWN, found on the exchange
    unresolved: list[str] = field(default_factory=list)  # PENDING or UNKNOWN, not listed by the exchange yet
    adopted: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)  # unknown orders cancelled
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def as_dict(self) -> dict[str, list[str]]:
        return {name: list(getattr(self, name)) for name in self.__dataclass_fields__}


def reconcile(
    *,
    broker: Broker,
    executor: OrderExecutor,
    orders: OrdersStore,
    events: EventStore,
    risk: LiveRiskManager,
    products: Mapping[str, Product],
    portfolio: Portfolio,
    unknown_orders: str,
    run_id: str | None = None,
) -> ReconcileReport:
    """Bring the store up to date with the exchange; `portfolio` must hold the bot's fills afterwards (the
    caller books them) before positions are compared, so this returns the report and `check_positions`
    does the comparison."""
    report = ReconcileReport()
    venue = {o.client_order_id: o for pid in products for o in broker.list_orders(pid)}
    known = set()
    for order in orders.open_orders():
        known.add(order.client_order_id)
        found = venue.get(order.client_order_id)
        if order.status.is_unresolved:
            if found is None and order.status is OrderStatus.PENDING:
                executor.mark_unknown(order, "written before a restart and not listed by the exchange")
            else:
                executor.resolve(order, found)
            (report.unresolved if found is None else report.recovered).append(order.client_order_id)
        elif order.order_id is not None:
            executor.refresh(order.client_order_id)
            report.refreshed.append(order.client_order_id)
    stored = {o.client_order_id for o in orders.all_orders()}
    for cid, order in venue.items():
        if cid in stored or order.is_terminal or order.order_id is None:
            continue
        if unknown_orders == "adopt":
            executor.adopt(order)
            report.adopted.append(cid)
        else:
            broker.cancel_orders([order.order_id])
            report.cancelled.append(cid)
        events.append(
            f"reconcile.unknown_{'adopted' if unknown_orders == 'adopt' else 'cancelled'}",
            {"client_order_id": cid, "order_id": order.order_id},
            run_id=run_id,
        )
    return report


def check_positions(
    *,
    broker: Broker,
    risk: LiveRiskManager,
    events: EventStore,
    products: Mapping[str, Product],
    portfolio: Portfolio,
    report: ReconcileReport,
    run_id: str | None = None,
) -> ReconcileReport:
    balances = {b.currency: b.total for b in broker.balances()}
    venue_positions = {p.product_id: p.size for p in broker.positions()}
    for pid, product in products.items():
        mine = portfolio.size(pid)
        if product.is_derivative:
            theirs = venue_positions.get(pid, Decimal(0))
            if mine != theirs:
                report.mismatches.append(f"{pid}: the bot holds {mine} contracts, the exchange shows {theirs}")
        elif mine > balances.get(product.base_currency, Decimal(0)):
            held = balances.get(product.base_currency, Decimal(0))
            report.mismatches.append(
                f"{pid}: the bot's fills add up to {mine} {product.base_currency}, the account holds {held}"
            )
    events.append("reconcile.done", report.as_dict(), run_id=run_id)
    if report.mismatches:
        risk.escalate(TradingState.HALTED, "reconciliation: " + "; ".join(report.mismatches))
    return report
