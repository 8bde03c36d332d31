"""Health signals the panel and the alerts share: data freshness, execution health and the one banner.

Data freshness: fresh under 10 s, stale from 10 to 30 s, critical over 30 s or whenever the connection is
unhealthy. Execution health: critical while a circuit breaker holds the bot (reduce-only or halted) or the
order success rate is under 80%, a warning under 95%. The banner shows one thing, by priority:
reconnecting, then degraded, then execution health, then staleness.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Level = Literal["ok", "warning", "critical"]
Freshness = Literal["fresh", "stale", "critical"]

FRESH_SECONDS = 10.0
STALE_SECONDS = 30.0
SUCCESS_WARNING = 0.95
SUCCESS_CRITICAL = 0.80


def freshness(mark_age_seconds: float, *, connection_healthy: bool = True) -> Freshness:
    if not connection_healthy or mark_age_seconds > STALE_SECONDS:
        return "critical"
    return "fresh" if mark_age_seconds < FRESH_SECONDS else "stale"


def execution_health(success_rate: float, *, breaker_open: bool = False) -> Level:
    if breaker_open or success_rate < SUCCESS_CRITICAL:
        return "critical"
    return "warning" if success_rate < SUCCESS_WARNING else "ok"


@dataclass(frozen=True, slots=True)
class Banner:
    level: Level
    text: str


def banner(
    *,
    reconnecting: bool,
    degraded: bool,
    execution: Level,
    data: Freshness,
    malformed: Sequence[str] = (),
) -> Banner | None:
    """The one message to show on top, or None when all is well."""
    if reconnecting:
        return Banner("critical", "reconnecting to the exchange's feed; marks come from REST meanwhile")
    if malformed:
        return Banner("critical", f"malformed answers from {', '.join(malformed)}: nothing in them was acted on")
    if degraded:
        return Banner("warning", "degraded: the exchange is answering with errors or slowly")
    if execution != "ok":
        return Banner(execution, f"execution health {execution}: see the execution alerts")
    if data != "fresh":
        return Banner("critical" if data == "critical" else "warning", f"market data {data}")
    return None
