"""Faults the sandbox injects on demand, for reliability tests. Bounded: each plan affects a limited
number of requests, latency is capped, and the admin API that sets them answers loopback only.

- `http_error`: answer `status` (500, 502, 503, 504) without doing the work.
- `error_after`: do the work, then answer `status` anyway: the case where a write reached the venue but
  its answer was lost, which only an idempotent client order id makes safe to retry.
- `rate_limit`: answer 429 with Coinbase's x-ratelimit-* headers and Retry-After.
- `latency`: delay the answer by `latency_ms`.
- `drop_websocket` (an event, not a plan): cut every open feed connection without a close frame.
A frozen price feed is the clock's `freeze` (admin `clock` call).
"""

import threading
from dataclasses import dataclass
from typing import Any, Literal

FaultKind = Literal["http_error", "error_after", "rate_limit", "latency"]
KINDS: tuple[FaultKind, ...] = ("http_error", "error_after", "rate_limit", "latency")
MAX_COUNT = 1000
MAX_LATENCY_MS = 10_000
MAX_RETRY_AFTER = 30.0
ERROR_STATUSES = (500, 502, 503, 504)


@dataclass
class FaultPlan:
    kind: FaultKind
    remaining: int
    path_prefix: str = "/api/v3/brokerage"
    method: str | None = None
    status: int = 503
    latency_ms: int = 0
    retry_after: float = 1.0

    def matches(self, method: str, path: str) -> bool:
        return path.startswith(self.path_prefix) and (self.method is None or self.method == method)


def parse_plan(body: dict[str, Any]) -> FaultPlan:
    """A plan from the admin API's JSON, with every bound checked and named."""
    kind = body.get("kind")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    count = body.get("count", 1)
    if not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise ValueError(f"count must be a whole number from 1 to {MAX_COUNT}, got {count!r}")
    plan = FaultPlan(
        kind=kind,
        remaining=count,
        path_prefix=str(body.get("path_prefix", "/api/v3/brokerage")),
        method=body.get("method"),
    )
    if kind in ("http_error", "error_after"):
        plan.status = body.get("status", 503)
        if plan.status not in ERROR_STATUSES:
            raise ValueError(f"status must be one of {ERROR_STATUSES}, got {plan.status!r}")
    if kind == "latency":
        plan.latency_ms = body.get("latency_ms", 0)
        if not isinstance(plan.latency_ms, int) or not 0 < plan.latency_ms <= MAX_LATENCY_MS:
            raise ValueError(f"latency_ms must be from 1 to {MAX_LATENCY_MS}, got {plan.latency_ms!r}")
    if kind == "rate_limit":
        plan.retry_after = float(body.get("retry_after", 1.0))
        if not 0 < plan.retry_after <= MAX_RETRY_AFTER:
            raise ValueError(f"retry_after must be from 0 to {MAX_RETRY_AFTER} seconds, got {plan.retry_after}")
    return plan


class Faults:
    def __init__(self) -> None:
        self._plans: list[FaultPlan] = []
        self._lock = threading.Lock()
        self.injected = 0

    def add(self, plan: FaultPlan) -> None:
        with self._lock:
            self._plans.append(plan)

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()

    def take(self, method: str, path: str) -> FaultPlan | None:
        """The first plan that applies to this request, counted as used."""
        with self._lock:
            for plan in self._plans:
                if plan.remaining > 0 and plan.matches(method, path):
                    plan.remaining -= 1
                    self.injected += 1
                    return plan
        return None
