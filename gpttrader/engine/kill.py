"""The kill switch: halt, cancel every open order, and flatten the bot's positions by policy, all recorded.

The flattening orders are the kill switch's own: they are sent while halted (nothing else is), marked
reduce-only, and each is written to the orders store and the event store like any other order.
"""

import logging
from dataclasses import dataclass, field

from gpttrader.brokers.errors import BrokerError
from gpttrader.domain import OrderRejected, OrderRequest, OrderType, Side, quantize_size
from gpttrader.engine.execution_coordinator import ExecutionCoordinator
from gpttrader.risk import LiveRiskManager
from gpttrader.store import EventStore

log = logging.getLogger(__name__)


@dataclass
class KillReport:
    cancelled: list[str] = field(default_factory=list)
    flattened: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def close_out(execution: ExecutionCoordinator, *, flatten: bool, stamp: str) -> KillReport:
    """Cancel the bot's open orders and (with `flatten`) close its positions with reduce-only market orders
    sent straight to the executor: the end of a canary window, and the kill switch's second half."""
    report = KillReport()
    with execution.lock:
        report.cancelled = execution.cancel_open()
        if flatten:
            for pid, position in execution.positions().items():
                product = execution.products[pid]
                size = quantize_size(abs(position.size), product)
                if size < product.base_min_size or size == 0:
                    continue
                side = Side.SELL if position.size > 0 else Side.BUY
                request = OrderRequest(f"{pid}-{stamp}", pid, side, OrderType.MARKET, size, reduce_only=True)
                try:
                    execution.executor.submit(request)
                    report.flattened.append(request.client_order_id)
                except (BrokerError, OrderRejected) as exc:
                    log.error("could not flatten %s: %s", pid, exc)
                    report.failed.append(f"{pid}: {exc}")
            execution.absorb_fills()
    return report


def engage_kill_switch(
    execution: ExecutionCoordinator,
    risk: LiveRiskManager,
    events: EventStore,
    *,
    operator: str,
    reason: str,
    flatten: bool = True,
    stamp: str = "kill",
) -> KillReport:
    risk.engage_kill_switch(operator=operator, reason=reason)
    report = close_out(execution, flatten=flatten, stamp=stamp)
    events.append(
        "kill_switch.done",
        {
            "operator": operator,
            "reason": reason,
            "cancelled": report.cancelled,
            "flattened": report.flattened,
            "failed": report.failed,
        },
    )
    return report
