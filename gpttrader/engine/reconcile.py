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
- Open orders the store does not know are cancelled or adopted, by policy, only when their client order id
  carries this bot's prefix (`ClientIds.owns`): the account may be shared with another profile's bot or a
  person, whose orders (stop-losses among them) are theirs. Those are reported (`foreign`) and recorded
  once each, never touched.
- Positions: a derivatives position must be the one the exchange shows. A spot currency must be held as the
  books explain it: what the account held outside the bot's books (its baseline, recorded at the profile's
  first reconciliation) plus the bot's position from its fills. A difference either way (coins gone that
  the bot bought, coins arrived that no one accounted for) cannot be explained: trading halts (fails
  closed), with a message saying what differs. After review, the operator takes the account as it now is
  with `gpttrader books accept`, which records a new baseline (`accept_books`).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from gpttrader.brokers.protocol import Broker
from gpttrader.domain import Order, OrderStatus, Product
from gpttrader.domain.client_ids import ClientIds
from gpttrader.domain.events import EventType
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
    cancelled: list[str] = field(default_factory=list)  # unknown orders of this bot, cancelled
    foreign: list[str] = field(default_factory=list)  # open orders of another bot or a person, left working
    moved: list[str] = field(default_factory=list)  # holdings outside the books that moved (a shared account)
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
    ids: ClientIds,
    run_id: str | None = None,
) -> ReconcileReport:
    """Bring the store up to date with the exchange; `portfolio` must hold the bot's fills afterwards (the
    caller books them) before positions are compared, so this returns the report and `check_positions`
    does the comparison."""
    report = ReconcileReport()
    venue = {o.client_order_id: o for pid in products for o in broker.list_orders(pid)}
    for order in orders.open_orders():
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
    recorded = {e.payload["client_order_id"] for e in events.read(types=[EventType.RECONCILE_FOREIGN_ORDER])}
    for cid, order in venue.items():
        if cid in stored or order.is_terminal or order.order_id is None:
            continue
        if ids.owns(cid):
            _unknown_order(broker, executor, events, order, unknown_orders, report, run_id)
            continue
        report.foreign.append(cid)
        if cid not in recorded:  # once per order, not on every periodic reconcile while it works
            events.append(
                EventType.RECONCILE_FOREIGN_ORDER,
                {"client_order_id": cid, "order_id": order.order_id, "product_id": order.product_id},
                run_id=run_id,
            )
    return report


def _unknown_order(
    broker: Broker,
    executor: OrderExecutor,
    events: EventStore,
    order: Order,
    policy: str,
    report: ReconcileReport,
    run_id: str | None,
) -> None:
    """An order of this bot the store does not know (a store restored from an older backup): by policy."""
    assert order.order_id is not None
    if policy == "adopt":
        executor.adopt(order)
        report.adopted.append(order.client_order_id)
    else:
        broker.cancel_orders([order.order_id])
        report.cancelled.append(order.client_order_id)
    events.append(
        EventType.RECONCILE_UNKNOWN_ADOPTED if policy == "adopt" else EventType.RECONCILE_UNKNOWN_CANCELLED,
        {"client_order_id": order.client_order_id, "order_id": order.order_id},
        run_id=run_id,
    )


def check_positions(
    *,
    broker: Broker,
    risk: LiveRiskManager,
    events: EventStore,
    products: Mapping[str, Product],
    portfolio: Portfolio,
    report: ReconcileReport,
    profile: str,
    settle: Callable[[], None],
    shared: bool = False,
    run_id: str | None = None,
) -> ReconcileReport:
    """Compare positions; a difference is looked at twice, with `settle` (reading the bot's open orders and
    fills again) between: a fill that landed between the order refresh and the balance read moved the
    account before the books, and is not a difference. On a `shared` account (`execution.shared_account`),
    spot holdings that moved outside the books while the account still holds the bot's own position are
    flagged (`moved`) and become the baseline; any other difference halts."""
    mismatches = _mismatches(broker, events, products, portfolio, shared, run_id)
    if mismatches.halting or mismatches.moved:
        settle()
        mismatches = _mismatches(broker, events, products, portfolio, shared, run_id)
    report.mismatches.extend(mismatches.halting)
    report.moved.extend(mismatches.moved)
    if mismatches.moved:
        _move_baseline(events, mismatches.outside, run_id)
    events.append(EventType.RECONCILE_DONE, report.as_dict(), run_id=run_id)
    if report.mismatches:
        risk.escalate(
            TradingState.HALTED,
            "reconciliation: "
            + "; ".join(report.mismatches)
            + f". Once the account is reviewed, `gpttrader books accept --profile {profile} --operator NAME` "
            f'takes it as it now is (spot), and `gpttrader risk set active --profile {profile} --reason "..."` '
            "resumes trading",
        )
    return report


@dataclass
class _Differences:
    halting: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    outside: dict[str, Decimal] = field(default_factory=dict)  # the baseline that would explain the account


def _mismatches(
    broker: Broker,
    events: EventStore,
    products: Mapping[str, Product],
    portfolio: Portfolio,
    shared: bool,
    run_id: str | None,
) -> _Differences:
    derivatives = [pid for pid, p in products.items() if p.is_derivative]
    spot = _spot_by_currency(products)
    found = _spot_mismatches(broker, events, spot, portfolio, shared, run_id) if spot else _Differences()
    if derivatives:
        found.halting[:0] = _derivative_mismatches(broker, derivatives, portfolio)
    return found


def _derivative_mismatches(broker: Broker, product_ids: list[str], portfolio: Portfolio) -> list[str]:
    venue = {p.product_id: p.size for p in broker.positions()}
    return [
        f"{pid}: the bot holds {portfolio.size(pid)} contracts, the exchange shows {venue.get(pid, Decimal(0))}"
        for pid in product_ids
        if portfolio.size(pid) != venue.get(pid, Decimal(0))
    ]


def _spot_mismatches(
    broker: Broker,
    events: EventStore,
    spot: Mapping[str, list[str]],
    portfolio: Portfolio,
    shared: bool,
    run_id: str | None,
) -> _Differences:
    held = broker.cash()  # each currency's total, spot only: what the books must explain
    mine = {currency: _books(portfolio, pids) for currency, pids in spot.items()}
    outside = _baseline(events, held, mine, run_id)
    found = _Differences(outside=dict(outside))
    for currency, pids in spot.items():
        expected, has = outside[currency] + mine[currency], held.get(currency, Decimal(0))
        if has == expected:
            continue
        line = (
            f"{', '.join(pids)}: the account holds {has} {currency}, the books explain {expected} "
            f"({outside[currency]} outside the bot's books + {mine[currency]} from the bot's fills): "
            f"{'more' if has > expected else 'less'} by {abs(has - expected)}"
        )
        if shared and has >= mine[currency]:  # another's trade; the bot's own coins are all there
            found.moved.append(line)
            found.outside[currency] = has - mine[currency]
        else:
            found.halting.append(line)
    return found


def _spot_by_currency(products: Mapping[str, Product]) -> dict[str, list[str]]:
    """The bot's spot products by base currency (BTC-USD and BTC-USDC draw on the same BTC)."""
    spot: dict[str, list[str]] = {}
    for pid, product in products.items():
        if not product.is_derivative:
            spot.setdefault(product.base_currency, []).append(pid)
    return spot


def _books(portfolio: Portfolio, product_ids: list[str]) -> Decimal:
    return sum((portfolio.size(pid) for pid in product_ids), Decimal(0))


def baseline(events: EventStore) -> dict[str, Decimal]:
    """What the account holds outside the bot's books, per currency, as last recorded."""
    recorded = events.latest(EventType.RECONCILE_BASELINE)
    return {} if recorded is None else {c: Decimal(str(v)) for c, v in recorded["outside"].items()}


def _baseline(
    events: EventStore, held: Mapping[str, Decimal], mine: Mapping[str, Decimal], run_id: str | None
) -> dict[str, Decimal]:
    """The recorded baseline; a currency it does not name yet (the profile's first reconciliation, or a
    product added since) is recorded as the account holds it now. Never below zero: an account holding less
    than the bot's own fills is a difference to flag, not a baseline."""
    outside = baseline(events)
    new = {c: max(held.get(c, Decimal(0)) - mine[c], Decimal(0)) for c in mine if c not in outside}
    if new:
        outside.update(new)
        events.append(
            EventType.RECONCILE_BASELINE, {"outside": outside, "operator": None, "new": sorted(new)}, run_id=run_id
        )
    return outside


def _move_baseline(events: EventStore, outside: Mapping[str, Decimal], run_id: str | None) -> None:
    events.append(
        EventType.RECONCILE_BASELINE, {"outside": dict(outside), "operator": None, "moved": True}, run_id=run_id
    )


def accept_books(
    *,
    broker: Broker,
    events: EventStore,
    products: Mapping[str, Product],
    portfolio: Portfolio,
    operator: str,
    reason: str,
) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    """An operator's word that the account, as it holds now, is right: the baseline becomes what it holds
    outside the bot's books (below zero when it holds less than the bot's fills, the operator having seen
    so). Returns, per currency, what the account holds, the bot's position and what is outside it."""
    held = broker.cash()  # each currency's total, spot only: what the books must explain
    figures = {}
    for currency, pids in _spot_by_currency(products).items():
        has, mine = held.get(currency, Decimal(0)), _books(portfolio, pids)
        figures[currency] = (has, mine, has - mine)
    outside = {**baseline(events), **{c: f[2] for c, f in figures.items()}}
    events.append(EventType.RECONCILE_BASELINE, {"outside": outside, "operator": operator, "reason": reason})
    return figures
