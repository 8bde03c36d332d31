"""Alert rules with cooldowns and a history: each rule looks at the bot's health and, when it fires, says
what is wrong and how to recover. Alerts go to a sink (the bot's: the log and the event store; the panel
reads the history), at most once per cooldown per rule."""

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from gpttrader.monitoring.health import SUCCESS_CRITICAL, SUCCESS_WARNING

Severity = Literal["warning", "critical"]


@dataclass(frozen=True)
class Health:
    """What the rules look at, as plain numbers the engine fills in."""

    running: bool = True
    connected: bool = True
    state: str = "active"
    success_rate: float = 1.0
    latency_p95_ms: float = 0.0
    retries_per_order: float = 0.0
    rate_limited: int = 0  # 429s answered in the last minute
    equity: float = 0.0
    daily_loss: float = 0.0
    daily_loss_limit: float = 0.0
    unrealized_pnl: Mapping[str, float] = field(default_factory=dict)
    open_order_ages: Mapping[str, float] = field(default_factory=dict)  # seconds, by client order id
    bar_seconds: float = 60.0  # the strategy's bar: an order is stale after STALE_ORDER_BARS of them
    failed_orders: int = 0  # in the last hour
    expired_orders: int = 0  # in the last hour
    malformed: Mapping[str, int] = field(default_factory=dict)  # malformed answers by endpoint, API-error window
    unresolved_orders: Mapping[str, str] = field(default_factory=dict)  # client order id -> product, fate unknown
    unexplained_fills: int = 0  # fills the books could not explain, this session
    unmet_targets: Mapping[str, int] = field(default_factory=dict)  # product -> bars its target has not been held
    unmet_alert_bars: int = 5  # execution.target_unmet_alert_bars
    unprotected: Mapping[str, str] = field(default_factory=dict)  # entry id -> why its exit could not be placed
    holdings_moved: Sequence[str] = ()  # spot holdings that moved outside the books, last reconciliation


@dataclass(frozen=True, slots=True)
class Alert:
    rule: str
    category: str
    severity: Severity
    message: str
    hint: str
    at: datetime


@dataclass(frozen=True)
class Rule:
    name: str
    category: Literal["system", "risk", "position", "trade"]
    severity: Severity
    check: Callable[[Health], str | None]  # the message while the condition holds, else None
    hint: str
    cooldown: timedelta = timedelta(minutes=5)


LATENCY_P95_MS = 1000.0
RETRIES_PER_ORDER = 0.5
UNREALIZED_LOSS_SHARE = 0.05
# An order working this many of the strategy's bars is likely far from the market: ten minutes for a
# one-minute strategy, ten hours for an hourly one, whose limits are meant to rest for hours.
STALE_ORDER_BARS = 10


def _fmt(condition: bool, message: str) -> str | None:
    return message if condition else None


def _span(seconds: float) -> str:
    return f"{seconds / 3600:g} hours" if seconds >= 7200 else f"{seconds / 60:g} minutes"


RULES: tuple[Rule, ...] = (
    Rule(
        "malformed_answers",
        "system",
        "critical",
        lambda h: _fmt(bool(h.malformed), "malformed answers from " + ", ".join(sorted(h.malformed))),
        "nothing in them was acted on; check what sits between the bot and Coinbase (a proxy, a captive "
        "portal) and Coinbase's status page",
    ),
    Rule(
        "order_fate_unknown",
        "trade",
        "critical",
        lambda h: _fmt(
            bool(h.unresolved_orders),
            "orders sent without a definite answer: "
            + ", ".join(f"{cid} ({pid})" for cid, pid in sorted(h.unresolved_orders.items()))
            + "; their products take no new order",
        ),
        "the bot looks them up by client order id each cycle; if one is never found, check the exchange "
        "(gpttrader order list) and the event store (gpttrader events tail --type order.unknown)",
    ),
    Rule(
        "target_unmet",
        "trade",
        "warning",
        lambda h: _fmt(
            any(bars >= h.unmet_alert_bars for bars in h.unmet_targets.values()),
            "targets not held: "
            + ", ".join(
                f"{pid} for {bars} bars" for pid, bars in sorted(h.unmet_targets.items()) if bars >= h.unmet_alert_bars
            ),
        ),
        "the bot retries with backoff; see why its orders were refused or rejected "
        "(gpttrader events tail --type risk.order_rejected, --type order.rejected)",
    ),
    Rule(
        "exit_unplaced",
        "position",
        "critical",
        lambda h: _fmt(
            bool(h.unprotected),
            "positions without their stop-loss: "
            + "; ".join(f"{cid}: {why}" for cid, why in sorted(h.unprotected.items()))
            + "; reduce-only",
        ),
        "the bot keeps trying to place the exit; place a stop by hand or flatten (gpttrader kill) if it lasts",
    ),
    Rule(
        "holdings_moved",
        "position",
        "warning",
        lambda h: _fmt(bool(h.holdings_moved), "; ".join(h.holdings_moved)),
        "the account is shared (execution.shared_account): another bot or a person traded; the bot's own "
        "position is all there, and what is outside its books is now taken as the account shows it",
    ),
    Rule(
        "unexplained_fill",
        "position",
        "critical",
        lambda h: _fmt(h.unexplained_fills > 0, f"{h.unexplained_fills} fills the books cannot explain; halted"),
        "compare the exchange's fills with the store's (gpttrader events tail --type books.unexplained_fill), "
        "then resume with gpttrader risk set active",
    ),
    Rule(
        "connection_lost",
        "system",
        "critical",
        lambda h: _fmt(not h.connected, "the exchange's feed is down"),
        "the feed reconnects by itself and REST keeps the bot going; check the network if it lasts",
    ),
    Rule(
        "rate_limit_high",
        "system",
        "warning",
        lambda h: _fmt(h.rate_limited >= 3, f"{h.rate_limited} requests rate-limited in a minute"),
        "the bot waits the limits out; lower coinbase.*_requests_per_second or the symbols traded",
    ),
    Rule(
        "bot_stopped",
        "system",
        "critical",
        lambda h: _fmt(not h.running, "the bot is not running"),
        "start it again (gpttrader run, or the panel); it reconciles before it trades",
    ),
    Rule(
        "circuit_breaker_open",
        "system",
        "critical",
        lambda h: _fmt(h.state != "active", f"trading state {h.state}"),
        "read the guard events, then an operator resumes: gpttrader risk set active --reason ...",
    ),
    Rule(
        "execution_critical",
        "system",
        "critical",
        lambda h: _fmt(h.success_rate < SUCCESS_CRITICAL, f"order success rate {h.success_rate:.0%}"),
        "orders are failing: check the exchange status and the rejections in the event store",
    ),
    Rule(
        "execution_degraded",
        "system",
        "warning",
        lambda h: _fmt(
            SUCCESS_CRITICAL <= h.success_rate < SUCCESS_WARNING, f"order success rate {h.success_rate:.0%}"
        ),
        "some orders fail: watch the rejections; the error-rate guard halts the bot if it worsens",
    ),
    Rule(
        "execution_p95_spike",
        "system",
        "warning",
        lambda h: _fmt(h.latency_p95_ms > LATENCY_P95_MS, f"order latency p95 {h.latency_p95_ms:.0f} ms"),
        "the exchange or the network is slow; limit orders may fill away from the decision",
    ),
    Rule(
        "execution_retry_high",
        "system",
        "warning",
        lambda h: _fmt(h.retries_per_order > RETRIES_PER_ORDER, f"{h.retries_per_order:.2f} retries per order"),
        "the exchange answers with errors; retries are safe (client order ids), but watch the error rate",
    ),
    Rule(
        "reduce_only_active",
        "risk",
        "warning",
        lambda h: _fmt(h.state == "reduce_only", "reduce-only: only orders that shrink positions pass"),
        "a guard tripped: read its event; an operator resumes with gpttrader risk set active",
    ),
    Rule(
        "daily_loss_warning",
        "risk",
        "warning",
        lambda h: _fmt(
            h.daily_loss_limit > 0 and h.daily_loss >= 0.8 * h.daily_loss_limit,
            f"daily loss {h.daily_loss:.4g} of the {h.daily_loss_limit:.4g} limit",  # a share, or dollars
        ),
        "the daily-loss guard puts the bot in reduce-only at the limit",
    ),
    Rule(
        "large_unrealized_loss",
        "position",
        "warning",
        lambda h: _fmt(
            h.equity > 0 and any(pnl < -UNREALIZED_LOSS_SHARE * h.equity for pnl in h.unrealized_pnl.values()),
            "a position has lost more than 5% of equity unrealized: "
            + ", ".join(f"{p} {v:.2f}" for p, v in h.unrealized_pnl.items() if v < -UNREALIZED_LOSS_SHARE * h.equity),
        ),
        "consider reducing it; the kill switch flattens everything",
    ),
    Rule(
        "stale_open_orders",
        "trade",
        "warning",
        lambda h: _fmt(
            any(age > STALE_ORDER_BARS * h.bar_seconds for age in h.open_order_ages.values()),
            f"orders open for more than {STALE_ORDER_BARS} bars ({_span(STALE_ORDER_BARS * h.bar_seconds)}): "
            + ", ".join(c for c, a in h.open_order_ages.items() if a > STALE_ORDER_BARS * h.bar_seconds),
        ),
        "a resting limit far from the market; cancel it or let its strategy replace it",
    ),
    Rule(
        "failed_orders",
        "trade",
        "warning",
        lambda h: _fmt(h.failed_orders >= 3, f"{h.failed_orders} orders failed in the last hour"),
        "read the rejections (gpttrader events tail --type order.rejected)",
    ),
    Rule(
        "expired_orders",
        "trade",
        "warning",
        lambda h: _fmt(h.expired_orders >= 1, f"{h.expired_orders} orders expired in the last hour"),
        "GTD orders ran out: their strategy decides again on the next bar",
    ),
)


class AlertBook:
    def __init__(
        self, rules: Sequence[Rule] = RULES, *, sink: Callable[[Alert], None] | None = None, keep: int = 500
    ) -> None:
        self.rules = tuple(rules)
        self.history: deque[Alert] = deque(maxlen=keep)
        self._sink = sink
        self._last: dict[str, datetime] = {}
        self._active: set[str] = set()

    @property
    def active(self) -> frozenset[str]:
        """The rules whose condition held at the last evaluation."""
        return frozenset(self._active)

    def evaluate(self, health: Health, now: datetime) -> list[Alert]:
        """The alerts this evaluation raises: each rule whose condition holds, unless it raised one within
        its cooldown (a condition that lasts is raised again once a cooldown has passed)."""
        raised = []
        for rule in self.rules:
            message = rule.check(health)
            if message is None:
                self._active.discard(rule.name)
                continue
            self._active.add(rule.name)
            last = self._last.get(rule.name)
            if last is not None and now - last < rule.cooldown:
                continue
            alert = Alert(rule.name, rule.category, rule.severity, message, rule.hint, now)
            self._last[rule.name] = now
            self.history.append(alert)
            raised.append(alert)
            if self._sink is not None:
                self._sink(alert)
        return raised
