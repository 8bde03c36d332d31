"""The bot's metrics as Prometheus series, fed once a cycle from a plain snapshot of its state.

The engine fills a `Snapshot` (it knows the bot; this module knows Prometheus), so the same figures reach
`metrics.json`, the exporter and, later, the panel. Each bot has its own registry, so that two bots in one
process (a test, a notebook) never share series.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge

from gpttrader.monitoring.resources import Resources

STATES = ("active", "reduce_only", "halted")


@dataclass(frozen=True)
class Snapshot:
    profile: str
    cycles: int
    bars: int
    decisions: int
    orders: int
    rejected: int
    fills: int
    errors: int
    last_cycle_seconds: float
    equity: float
    cash: float
    state: str
    positions: Mapping[str, float] = field(default_factory=dict)  # signed size per product
    unrealized_pnl: Mapping[str, float] = field(default_factory=dict)
    mark_age_seconds: Mapping[str, float] = field(default_factory=dict)
    guard_failures: Mapping[str, float] = field(default_factory=dict)  # the risk manager's counters
    execution: Mapping[str, float] = field(default_factory=dict)  # ExecutionTelemetry.as_dict()
    resources: Resources | None = None  # the process and its stores (gpttrader.monitoring.resources)
    alert_delivery: Mapping[str, float] = field(default_factory=dict)  # delivered/failed/dropped/pending


class BotMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self._totals = {
            name: Counter(f"gpttrader_{name}", help_text, ["profile"], registry=r)
            for name, help_text in (
                ("cycles", "cycles run"),
                ("bars", "closed bars decided on"),
                ("decisions", "orders decided (before the risk checks)"),
                ("orders", "orders sent"),
                ("rejected", "orders refused by the risk manager"),
                ("fills", "fills booked"),
                ("errors", "cycles that failed on a broker error"),
            )
        }
        self._seen: dict[str, int] = {}
        self._held: set[str] = set()
        self.cycle_seconds = Gauge("gpttrader_cycle_seconds", "duration of the last cycle", ["profile"], registry=r)
        self.equity = Gauge("gpttrader_equity", "equity in the quote currency", ["profile"], registry=r)
        self.cash = Gauge("gpttrader_cash", "cash in the quote currency", ["profile"], registry=r)
        self.state = Gauge("gpttrader_trading_state", "1 for the state the bot is in", ["profile", "state"], registry=r)
        self.position = Gauge("gpttrader_position", "signed position size", ["profile", "product"], registry=r)
        self.unrealized = Gauge("gpttrader_unrealized_pnl", "unrealized PnL", ["profile", "product"], registry=r)
        self.mark_age = Gauge(
            "gpttrader_mark_age_seconds", "age of the product's mark", ["profile", "product"], registry=r
        )
        self.guards = Gauge("gpttrader_risk_counter", "the risk manager's counters", ["profile", "counter"], registry=r)
        self.execution = Gauge("gpttrader_execution", "execution telemetry", ["profile", "figure"], registry=r)
        self._resources = {
            name: Gauge(f"gpttrader_process_{name}", help_text, ["profile"], registry=r)
            for name, help_text in (
                ("cpu_seconds", "user and system CPU time of the bot's process"),
                ("cpu_percent", "CPU use of the process since the previous sample (100: one core)"),
                ("rss_bytes", "resident memory of the process"),
                ("open_files", "file descriptors the process holds (files, sockets, pipes)"),
                ("threads", "threads of the process"),
            )
        }
        self.loop_lag = Gauge(
            "gpttrader_event_loop_lag_seconds",
            "worst delay of the asyncio loop the bot runs on, last 10 s (absent: no loop)",
            ["profile"],
            registry=r,
        )
        self.store_bytes = Gauge(
            "gpttrader_store_bytes", "size of the profile's SQLite files", ["profile", "file"], registry=r
        )
        self.alert_delivery = Gauge(
            "gpttrader_alert_deliveries", "alerts sent to the webhook, by outcome", ["profile", "outcome"], registry=r
        )
        self._stores: set[str] = set()
        self._lagging: set[str] = set()

    def update(self, snapshot: Snapshot) -> None:
        p = snapshot.profile
        for name, total in self._totals.items():
            now, seen = int(getattr(snapshot, name)), self._seen.get(name, 0)
            total.labels(p).inc(now - seen if now >= seen else now)  # fewer than seen: a new bot counts from 0
            self._seen[name] = now
        self.cycle_seconds.labels(p).set(snapshot.last_cycle_seconds)
        self.equity.labels(p).set(snapshot.equity)
        self.cash.labels(p).set(snapshot.cash)
        for state in STATES:
            self.state.labels(p, state).set(1.0 if snapshot.state == state else 0.0)
        self._held |= set(snapshot.positions)
        for product in self._held:  # a position closed since shows 0, not its last size
            self.position.labels(p, product).set(snapshot.positions.get(product, 0.0))
            self.unrealized.labels(p, product).set(snapshot.unrealized_pnl.get(product, 0.0))
        for product, age in snapshot.mark_age_seconds.items():
            self.mark_age.labels(p, product).set(age)
        for key, count in snapshot.guard_failures.items():
            self.guards.labels(p, key).set(count)
        for figure, amount in snapshot.execution.items():
            self.execution.labels(p, figure).set(amount)
        for outcome, count in snapshot.alert_delivery.items():
            self.alert_delivery.labels(p, outcome).set(count)
        if snapshot.resources is not None:
            self._update_resources(p, snapshot.resources)

    def _update_resources(self, p: str, resources: Resources) -> None:
        for name, gauge in self._resources.items():
            figure = getattr(resources, name)
            if figure is not None:
                gauge.labels(p).set(figure)
        if resources.event_loop_lag_seconds is not None:
            self.loop_lag.labels(p).set(resources.event_loop_lag_seconds)
            self._lagging.add(p)
        elif p in self._lagging:  # no loop any more: no series, rather than its last value
            self.loop_lag.remove(p)
            self._lagging.discard(p)
        self._stores |= set(resources.store_bytes)
        for name in self._stores:  # a file gone since (a WAL checkpointed away) shows 0
            self.store_bytes.labels(p, name).set(resources.store_bytes.get(name, 0))
