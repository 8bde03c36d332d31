"""The bot as one cycle left it, built once (at the end of each cycle, at start and at shutdown) and frozen.

Everything that shows the bot reads this one value: the run's summary, `metrics.json`, the Prometheus
registry, the `account.snapshot` event (which the performance report reads), the health the alert rules
judge and the banner, and the control panel. None of them reaches into the engine's parts, and no two of
them can disagree about the same cycle. Being frozen, it may be read from any thread (the panel's kernel
loop) while the next cycle runs.
"""

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from gpttrader.brokers.protocol import FeeRates
from gpttrader.engine.telemetry import CycleMetrics
from gpttrader.monitoring import Alert, Banner, Health, Resources, Snapshot
from gpttrader.risk import GuardReading
from gpttrader.risk.edge import EdgeEstimate


@dataclass(frozen=True, slots=True)
class PositionView:
    product: str
    size: Decimal
    entry: Decimal
    mark: Decimal
    unrealized: Decimal
    realized: Decimal


@dataclass(frozen=True, slots=True)
class OrderView:
    client_order_id: str
    product: str
    side: str
    kind: str
    size: Decimal
    filled: Decimal
    price: Decimal | None
    status: str
    age_seconds: float


@dataclass(frozen=True, slots=True)
class SizingView:
    """What sizing reads besides the order: the method, each strategy's edge estimate on each product (Kelly
    sizes by `floor_fraction` until an estimate has `min_trades` trips behind it), each product's market
    regime and the account's fee rates (None until first read)."""

    method: str
    min_trades: int
    floor_fraction: Decimal
    edges: tuple[EdgeEstimate, ...]
    regimes: tuple[tuple[str, str], ...]  # (product, regime), by product
    fees: FeeRates | None


@dataclass(frozen=True)
class BotSummary:
    profile: str
    cycles: int
    bars: int
    decisions: int
    orders: int
    rejected: int
    fills: int
    errors: int
    state: str
    equity: str
    positions: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        held = ", ".join(f"{pid} {size}" for pid, size in self.positions.items()) or "flat"
        return [
            f"profile {self.profile}: {self.cycles} cycles, {self.bars} bars, {self.decisions} decisions, "
            f"{self.orders} orders ({self.rejected} refused by risk), {self.fills} fills, {self.errors} errors",
            f"trading state {self.state}, equity {self.equity}, positions: {held}",
        ]


@dataclass(frozen=True)
class BotState:
    profile: str
    at: datetime
    counts: CycleMetrics  # a copy: the bot's own goes on counting
    trading_state: str
    paused: bool
    config_version: int
    equity: Decimal | None  # None until the bot has read its account (before it is prepared)
    cash: Decimal
    realized: Decimal
    unrealized: Decimal
    fees: Decimal
    positions: tuple[PositionView, ...]
    orders: tuple[OrderView, ...]
    marks: dict[str, Decimal]
    mark_ages: dict[str, float]  # seconds, by product (inf: never marked)
    guards: tuple[GuardReading, ...]
    risk_counters: dict[str, int]
    execution: dict[str, Any]  # the execution telemetry (success rate, latency percentiles, retries)
    resources: Resources
    alert_delivery: dict[str, Any] | None  # the webhook's counts, None without one
    health: Health
    banner: Banner | None
    alerts: tuple[Alert, ...]  # newest first
    active_alerts: frozenset[str]
    sizing: SizingView

    def summary(self) -> BotSummary:
        c = self.counts
        return BotSummary(
            self.profile,
            c.cycles,
            c.bars,
            c.decisions,
            c.orders,
            c.rejected,
            c.fills,
            c.errors,
            self.trading_state,
            "n/a" if self.equity is None else f"{self.equity:.2f}",
            {p.product: str(p.size) for p in self.positions},
        )

    def snapshot(self) -> Snapshot:
        """As plain numbers, for the Prometheus registry."""
        c = self.counts
        return Snapshot(
            self.profile,
            c.cycles,
            c.bars,
            c.decisions,
            c.orders,
            c.rejected,
            c.fills,
            c.errors,
            c.last_cycle_ms / 1000,
            float(self.equity or 0),
            float(self.cash),
            self.trading_state,
            {p.product: float(p.size) for p in self.positions},
            {p.product: float(p.unrealized) for p in self.positions},
            {pid: min(age, 1e9) for pid, age in self.mark_ages.items()},
            {name: float(count) for name, count in self.risk_counters.items()},
            {
                name: float(value)
                for name, value in self.execution.items()
                if isinstance(value, int | float) and math.isfinite(value)
            },
            resources=self.resources,
            alert_delivery={}
            if self.alert_delivery is None
            else {k: float(v) for k, v in self.alert_delivery.items() if isinstance(v, int)},
        )

    def metrics_payload(self) -> dict[str, Any]:
        """`metrics.json`: what `gpttrader risk show` and a monitor outside the process read."""
        payload: dict[str, Any] = {
            "profile": self.profile,
            "at": self.at.isoformat(),
            "cycle": asdict(self.counts),
            "execution": self.execution,
            "state": self.trading_state,
            "risk_counters": self.risk_counters,
            "resources": self.resources.as_dict(),
            "alert_delivery": self.alert_delivery,
            # Each guard's last reading and when it was taken: `gpttrader risk show` prints their ages.
            "guards": [
                {
                    "guard": r.guard,
                    "scope": r.scope,
                    "value": r.value,
                    "level": r.level.name.lower(),
                    "at": None if r.at is None else r.at.isoformat(),
                }
                for r in self.guards
            ],
        }
        if self.equity is not None:
            payload["equity"] = str(self.equity)
            payload["positions"] = {p.product: str(p.size) for p in self.positions}
        return payload

    def account_payload(self) -> dict[str, Any]:
        """The `account.snapshot` event: the account's history, which the performance report draws."""
        return {
            "equity": self.equity,
            "cash": self.cash,
            "positions": {p.product: str(p.size) for p in self.positions},
            "marks": self.marks,
            "state": self.trading_state,
        }
