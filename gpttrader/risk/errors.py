"""What a guard raises when its metric crosses the limit: structured, so that the manager, the log and the
event store all see the guard, the metric, the value and the limit, not a sentence."""

from dataclasses import dataclass
from decimal import Decimal


@dataclass
class RiskGuardError(Exception):
    guard: str
    metric: str
    value: Decimal
    limit: Decimal
    comparison: str
    message: str
    action: str
    scope: str | None = None

    def __str__(self) -> str:
        where = f" ({self.scope})" if self.scope else ""
        return (
            f"risk guard {self.guard}{where}: {self.metric} {self.value} {self.comparison} {self.limit}: {self.message}"
        )

    def payload(self) -> dict[str, object]:
        return {
            "guard": self.guard,
            "metric": self.metric,
            "value": str(self.value),
            "limit": str(self.limit),
            "comparison": self.comparison,
            "action": self.action,
            "scope": self.scope,
            "message": self.message,
        }


class RiskGuardRecoverableError(RiskGuardError):
    """A breach that is logged and counted but does not change what the bot may do."""


class RiskGuardCriticalError(RiskGuardError):
    """A breach that moves the bot toward safety: `action` is reduce_only or halt."""
