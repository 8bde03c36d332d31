"""What the bot reports about itself: execution telemetry (success rate, latency percentiles, retries),
cycle metrics written to `metrics.json` each cycle, and account snapshots in the event store."""

import json
import math
import os
import tempfile
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class ExecutionTelemetry:
    """Order placements: how many succeeded, how long they took (the last `window`), how many retries the
    broker made. A rejection by the venue counts as a failure; one by our own risk checks does not."""

    window: int = 500
    succeeded: int = 0
    failed: int = 0
    retries: Callable[[], int] = lambda: 0
    _latencies: deque[float] = field(default_factory=deque)
    _decisions: deque[tuple[float, float]] = field(default_factory=deque)

    def record_decision(self, total: float, in_process: float) -> None:
        """From the tick that closed a bar to the order decided on it being handed to the broker (`total`),
        and the part of it after the closed bar was in hand (`in_process`: strategy, sizing, risk checks,
        the decision written to the store; the exchange's answers it waited for, such as the book the
        impact check walks, left out), in seconds."""
        self._decisions.append((total * 1000, in_process * 1000))
        while len(self._decisions) > self.window:
            self._decisions.popleft()

    def decision_percentile(self, q: float, *, in_process: bool = False) -> float:
        values = [d[1 if in_process else 0] for d in self._decisions]
        return float(np.percentile(values, q)) if values else math.nan

    def record(self, ok: bool, seconds: float) -> None:
        if ok:
            self.succeeded += 1
        else:
            self.failed += 1
        self._latencies.append(seconds * 1000)
        while len(self._latencies) > self.window:
            self._latencies.popleft()

    @property
    def success_rate(self) -> float:
        total = self.succeeded + self.failed
        return 1.0 if total == 0 else self.succeeded / total

    def percentile(self, q: float) -> float:
        return float(np.percentile(list(self._latencies), q)) if self._latencies else math.nan

    def as_dict(self) -> dict[str, Any]:
        return {
            "orders_succeeded": self.succeeded,
            "orders_failed": self.failed,
            "success_rate": self.success_rate,
            "latency_ms_p50": self.percentile(50),
            "latency_ms_p95": self.percentile(95),
            "latency_ms_p99": self.percentile(99),
            "retries": self.retries(),
            "decision_latency_ms_p50": self.decision_percentile(50),
            "decision_latency_ms_p99": self.decision_percentile(99),
            "decision_in_process_ms_p50": self.decision_percentile(50, in_process=True),
            "decision_in_process_ms_p99": self.decision_percentile(99, in_process=True),
        }


@dataclass
class CycleMetrics:
    cycles: int = 0
    bars: int = 0
    decisions: int = 0
    orders: int = 0
    rejected: int = 0
    fills: int = 0
    errors: int = 0
    last_cycle_ms: float = 0.0
    last_cycle_at: datetime | None = None


def write_metrics(path: Path, payload: dict[str, Any]) -> None:
    """Replace `path` atomically: a reader never sees half a file, a crash never leaves one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".metrics-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(payload, out, indent=2, sort_keys=True, default=str)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
