"""The kill switch and the canary's close-out: cancel every open order of the bot, flatten its positions, and
say honestly what the exchange shows afterwards.

The kill switch records HALTED durably before it makes any exchange call, so a kill during an outage still
stops the bot (a running bot reads the state each cycle). Then it works in passes until the exchange shows
nothing left or its deadline passes, backing off between passes:
1. orders of unknown fate (a flatten whose answer was lost among them) are looked up first (and sent again
   under their own ids when the exchange does not list them); a product with one still unknown on the
   flatten's side gets no new flatten, since that one may already have done its work;
2. the bot's open orders are cancelled and read back;
3. each position is flattened with a reduce-only market order whose size comes from the exchange: the
   derivatives position it shows, or for spot the smaller of the bot's holding and the account's available
   balance (never coins the account does not hold, never the owner's coins the bot did not buy), at most
   the product's largest order a pass. Each flatten's client order id is fixed by the bot's prefix, the kill
   episode and the product (`<prefix>-<product>-kill<id>-<n>`, `ClientIds.kill`, n counting that product's
   flattens in the episode), so a retried pass, a repeated kill or two kills at once send the same id, which
   Coinbase answers with the order it already has, and no other bot on the account builds it;
4. what is left is read from the exchange: the bot's orders it shows open (whatever the store believes),
   and the positions.
A report is complete only when the last pass read the exchange and found no open order and no position.
"""

import itertools
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from decimal import Decimal

from gpttrader.brokers.errors import BrokerError
from gpttrader.domain import Order, OrderRejected, OrderRequest, OrderType, Product, Side, quantize_size
from gpttrader.domain.client_ids import ClientIds
from gpttrader.domain.events import EventType
from gpttrader.engine.execution_coordinator import ExecutionCoordinator
from gpttrader.risk import LiveRiskManager
from gpttrader.store import EventStore, StoreError

log = logging.getLogger(__name__)
BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0)


@dataclass
class KillReport:
    cancelled: list[str] = field(default_factory=list)
    flattened: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # what went wrong along the way, in order
    open_orders: list[str] = field(default_factory=list)  # left open at the exchange after the last pass
    positions: dict[str, Decimal] = field(default_factory=dict)  # left held after the last pass
    verified: bool = False  # the last pass read the exchange after acting

    @property
    def complete(self) -> bool:
        return self.verified and not self.open_orders and not self.positions

    def left(self) -> list[str]:
        """What the exchange still shows (or that it could not be read), one line each."""
        lines = [f"open order {cid}" for cid in self.open_orders]
        lines += [f"position {pid} {size}" for pid, size in self.positions.items()]
        if not self.verified:
            lines.append("the exchange could not be read after the last attempt")
        return lines


def close_out(
    execution: ExecutionCoordinator,
    *,
    ids: ClientIds,
    flatten: bool,
    stamp: str,
    deadline_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> KillReport:
    """Cancel the bot's open orders and (with `flatten`) close its positions, pass after pass until the
    exchange shows nothing left or `deadline_seconds` have passed."""
    report = KillReport()
    give_up = monotonic() + deadline_seconds
    for attempt in itertools.count():
        try:
            _pass(execution, report, ids=ids, flatten=flatten, stamp=stamp)
        except (BrokerError, StoreError) as exc:
            report.verified = False
            report.failed.append(f"{type(exc).__name__}: {exc}")
            log.warning("kill switch pass %d failed: %s", attempt + 1, exc)
        if report.complete or monotonic() >= give_up:
            break
        _pause(attempt, give_up, sleep, monotonic)
    return report


def _pause(attempt: int, give_up: float, sleep: Callable[[float], None], monotonic: Callable[[], float]) -> None:
    """The wait before the next try: the backoff, never past the deadline."""
    sleep(min(BACKOFF[min(attempt, len(BACKOFF) - 1)], max(give_up - monotonic(), 0.0)))


def _pass(execution: ExecutionCoordinator, report: KillReport, *, ids: ClientIds, flatten: bool, stamp: str) -> None:
    report.verified = False

    def resend_own(order: Order) -> bool:  # the kill re-sends only its own flattens, never a stale decision
        return order.client_order_id.startswith(ids.kill_stem(order.product_id, stamp))

    with execution.lock:
        unknown = execution.resolve_unknown(execution.clock_now(), force=True, resend=resend_own)
        for cid in [*execution.cancel_open(), *execution.cancel_stray()]:
            if cid not in report.cancelled:
                report.cancelled.append(cid)
        if flatten:
            for pid, size in _exchange_positions(execution).items():
                side = Side.SELL if size > 0 else Side.BUY
                blocking = [o.client_order_id for o in unknown if o.product_id == pid and o.side is side]
                if blocking:  # it may have done this flatten's work already: sending one more could double it
                    report.failed.append(f"{pid}: {', '.join(blocking)} of unknown fate; not flattened until found")
                    continue
                _flatten(execution, report, execution.products[pid], size, ids=ids, stamp=stamp)
        execution.resolve_unknown(execution.clock_now(), force=True, resend=resend_own)
        execution.refresh_open()
        report.open_orders = sorted(
            {o.client_order_id for o in execution.orders.open_orders()} | set(execution.stray_open_orders())
        )
        report.positions = _exchange_positions(execution) if flatten else {}
        report.verified = True


def _exchange_positions(execution: ExecutionCoordinator) -> dict[str, Decimal]:
    """What is left to flatten per product, as the exchange shows it: a derivatives position, or for spot
    the bot's holding capped by the account's available balance; sizes under the product's minimum are dust
    the exchange would refuse, so they count as flat. Each account is asked only when a product needs it
    (a spot-only kill never depends on the futures endpoints)."""
    products = execution.products
    venue = execution.executor.venue_positions() if any(p.is_derivative for p in products.values()) else {}
    spot = any(not p.is_derivative for p in products.values())
    balances = execution.executor.venue_available() if spot else {}
    left: dict[str, Decimal] = {}
    for pid, product in products.items():
        if product.is_derivative:
            size = venue.get(pid, Decimal(0))
        else:
            size = min(max(execution.portfolio.size(pid), Decimal(0)), balances.get(product.base_currency, Decimal(0)))
        if abs(quantize_size(abs(size), product)) >= max(product.base_min_size, product.base_increment):
            left[pid] = size
    return left


def _flatten(
    execution: ExecutionCoordinator, report: KillReport, product: Product, size: Decimal, *, ids: ClientIds, stamp: str
) -> None:
    """One reduce-only market order, at most the product's largest order (a bigger position takes passes)."""
    stem = ids.kill_stem(product.product_id, stamp)
    n = sum(o.client_order_id.startswith(stem) for o in execution.orders.all_orders())
    side = Side.SELL if size > 0 else Side.BUY
    amount = quantize_size(min(abs(size), product.base_max_size), product)
    request = OrderRequest(
        ids.kill(product.product_id, stamp, n), product.product_id, side, OrderType.MARKET, amount, reduce_only=True
    )
    try:
        execution.executor.submit(request)
        report.flattened.append(request.client_order_id)
    except (BrokerError, OrderRejected, StoreError) as exc:
        log.error("could not flatten %s: %s", product.product_id, exc)
        report.failed.append(f"{product.product_id}: {exc}")
    execution.absorb_fills()


def engage_kill_switch(
    prepare: Callable[[], ExecutionCoordinator],
    risk: LiveRiskManager,
    events: EventStore,
    *,
    ids: ClientIds,
    operator: str,
    reason: str,
    flatten: bool = True,
    deadline_seconds: float,
    exclusive: Callable[[float], AbstractContextManager[object]] = lambda wait: nullcontext(),
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> KillReport:
    """Halt (recorded before any exchange call), then, holding `exclusive` (one kill switch at a time per
    profile, waited for up to the deadline), close out under the kill episode's client order ids. `prepare`
    builds the execution side (products, the books), which needs the exchange: it is retried within the same
    deadline, and a kill that never got that far reports so."""
    halt(risk, operator=operator, reason=reason)
    with exclusive(deadline_seconds):
        return _close_out_halted(
            prepare,
            events,
            ids=ids,
            operator=operator,
            reason=reason,
            flatten=flatten,
            deadline_seconds=deadline_seconds,
            sleep=sleep,
            monotonic=monotonic,
        )


def _close_out_halted(
    prepare: Callable[[], ExecutionCoordinator],
    events: EventStore,
    *,
    ids: ClientIds,
    operator: str,
    reason: str,
    flatten: bool,
    deadline_seconds: float,
    sleep: Callable[[float], None],
    monotonic: Callable[[], float],
) -> KillReport:
    stamp = kill_stamp(events)
    give_up = monotonic() + deadline_seconds
    failed: list[str] = []
    execution: ExecutionCoordinator | None = None
    for attempt in itertools.count():
        try:
            execution = prepare()
            break
        except (BrokerError, StoreError) as exc:
            failed.append(f"{type(exc).__name__}: {exc}")
            log.warning("kill switch: the exchange cannot be read yet: %s", exc)
            if monotonic() >= give_up:
                break
            _pause(attempt, give_up, sleep, monotonic)
    if execution is None:
        report = KillReport(failed=failed)
    else:
        report = close_out(
            execution,
            ids=ids,
            flatten=flatten,
            stamp=stamp,
            deadline_seconds=max(give_up - monotonic(), 0.0),
            sleep=sleep,
            monotonic=monotonic,
        )
        report.failed[:0] = failed
    record(events, report, operator=operator, reason=reason)
    return report


def halt(risk: LiveRiskManager, *, operator: str, reason: str) -> None:
    """The kill switch's first half, which needs no exchange: HALTED, durably."""
    risk.engage_kill_switch(operator=operator, reason=reason)


def kill_stamp(events: EventStore) -> str:
    """The id of the kill episode under way: the first kill since the last one that left the exchange clean.
    A kill retried, or run twice at once, names its flatten orders the same (`ClientIds.kill`), so
    the store and Coinbase's de-duplication turn a second flatten of the same position into the first."""
    episode: int | None = None
    for event in events.read(types=[EventType.RISK_KILL_SWITCH, EventType.KILL_SWITCH_DONE]):
        if event.type is EventType.RISK_KILL_SWITCH and episode is None:
            episode = event.id
        elif event.type is EventType.KILL_SWITCH_DONE and event.payload.get("complete"):
            episode = None
    return f"kill{episode or 0}"


def record(events: EventStore, report: KillReport, *, operator: str, reason: str) -> None:
    events.append(
        EventType.KILL_SWITCH_DONE,
        {
            "operator": operator,
            "reason": reason,
            "complete": report.complete,
            "cancelled": report.cancelled,
            "flattened": report.flattened,
            "failed": report.failed,
            "left": report.left(),
        },
    )
