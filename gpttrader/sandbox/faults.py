"""Faults the sandbox injects on demand, for reliability tests. Bounded: each plan affects a limited
number of requests, latency is capped, and the admin API that sets them answers loopback only.

- `http_error`: answer `status` (500, 502, 503, 504) without doing the work.
- `error_after`: do the work, then answer `status` anyway: the case where a write reached the venue but
  its answer was lost, which only an idempotent client order id makes safe to retry.
- `rate_limit`: answer 429 as Coinbase does: a `RESOURCE_EXHAUSTED` body, the x-ratelimit-* headers and
  Retry-After.
- `latency`: delay the answer by `latency_ms`.
- `garble`: answer what a proxy rewriting answers would, so that a client's strictness can be tested:
  `body` `empty_object` (`{}`, 200), `html` (an HTML error page, 200 or `status`), `truncated` (the real
  JSON cut in half) or `drop_field` (the real JSON without `field`, wherever it occurs). With `work_first`
  (the default) the request reaches the exchange and only its answer is garbled, as behind a real proxy;
  `truncated` and `drop_field` need it, since they rewrite the real answer.
- `drop_websocket` (an event, not a plan): cut every open feed connection without a close frame.
A frozen price feed is the clock's `freeze` (admin `clock` call).
"""

import json
import re
import threading
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

FaultKind = Literal["http_error", "error_after", "rate_limit", "latency", "garble"]
KINDS: tuple[FaultKind, ...] = ("http_error", "error_after", "rate_limit", "latency", "garble")
# lagging: each list in the answer without its last entry, as a listing that has not caught up (Coinbase's
# fills can trail the order's status, which already counts them).
GarbleBody = Literal["empty_object", "html", "truncated", "drop_field", "lagging"]
GARBLE_BODIES: tuple[GarbleBody, ...] = ("empty_object", "html", "truncated", "drop_field", "lagging")
MAX_COUNT = 1000
MAX_LATENCY_MS = 10_000
MAX_RETRY_AFTER = 30.0
ERROR_STATUSES = (500, 502, 503, 504)
HTML_STATUSES = (200, *ERROR_STATUSES)
FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


@dataclass
class FaultPlan:
    kind: FaultKind
    remaining: int
    path_prefix: str = "/api/v3/brokerage"
    method: str | None = None
    status: int = 503
    latency_ms: int = 0
    retry_after: float = 1.0
    body: GarbleBody = "empty_object"
    field_name: str = ""
    work_first: bool = True

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
    if kind == "garble":
        _parse_garble(plan, body)
    return plan


def _parse_garble(plan: FaultPlan, body: dict[str, Any]) -> None:
    if body.get("body") not in GARBLE_BODIES:
        raise ValueError(f"body must be one of {', '.join(GARBLE_BODIES)}, got {body.get('body')!r}")
    plan.body = body["body"]
    plan.work_first = body.get("work_first", True)
    if not isinstance(plan.work_first, bool):
        raise ValueError(f"work_first must be true or false, got {plan.work_first!r}")
    if not plan.work_first and plan.body in ("truncated", "drop_field", "lagging"):
        raise ValueError(f"work_first must be true for body {plan.body}: it rewrites the real answer")
    if plan.body == "html":
        plan.status = body.get("status", 200)
        if plan.status not in HTML_STATUSES:
            raise ValueError(f"status must be one of {HTML_STATUSES}, got {plan.status!r}")
    if plan.body == "drop_field":
        name = body.get("field")
        if not isinstance(name, str) or not FIELD_NAME.fullmatch(name):
            raise ValueError(f"field must be a JSON key of 1 to 64 letters, digits or _, got {name!r}")
        plan.field_name = name


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


def garbled(plan: FaultPlan, real: Answer | None) -> Answer:
    """What a garble plan answers instead of `real` (None when the work was not done)."""
    if plan.body == "empty_object":
        return Answer(200, "application/json", b"{}")
    if plan.body == "html":
        title = f"{plan.status} {HTTPStatus(plan.status).phrase}"
        page = f"<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
        return Answer(plan.status, "text/html", page.encode())
    assert real is not None, "parse_plan lets truncated, drop_field and lagging run only with work_first"
    if plan.body == "truncated":
        return Answer(real.status, real.content_type, real.body[: len(real.body) // 2])
    if plan.body == "lagging":
        return Answer(real.status, real.content_type, json.dumps(_lagging(json.loads(real.body))).encode())
    return Answer(real.status, real.content_type, json.dumps(_without(json.loads(real.body), plan.field_name)).encode())


def _lagging(answer: Any) -> Any:
    if not isinstance(answer, dict):
        return answer
    return {key: item[:-1] if isinstance(item, list) else item for key, item in answer.items()}


def _without(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        return {key: _without(item, name) for key, item in value.items() if key != name}
    if isinstance(value, list):
        return [_without(item, name) for item in value]
    return value


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
