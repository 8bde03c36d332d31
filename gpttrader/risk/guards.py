"""The generic runtime guard: a metric, a comparison, a limit and a warning band.

A guard is evaluated two ways with one rule: `check` for one value (the live loop, once a cycle) and
`levels` for a whole series at once (the backtest, over the bars between two of its events). Tests hold
the two to the same answer on every comparison.
"""

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import IntEnum
from typing import Any

import numpy as np

from gpttrader.config.guards import GuardConfig, Guards, LossGuardConfig
from gpttrader.risk.errors import RiskGuardCriticalError, RiskGuardError, RiskGuardRecoverableError

# The metric each shipped guard watches; several guards may watch one metric at different limits. A loss
# guard watches the metric of its limit's unit (`guard_metric`): the share by default, dollars with `usd`.
GUARD_METRICS: dict[str, str] = {
    "daily_loss": "daily_loss_share",
    "hourly_loss": "hourly_loss_share",
    "max_drawdown": "drawdown",
    "consecutive_losses": "consecutive_losses",
    "error_rate": "error_rate",
    "api_errors": "api_errors",
    "stale_market_data": "mark_age_seconds",
    "liquidation_buffer": "liquidation_buffer",
    "volatility": "volatility",
    "volatility_kill_switch": "volatility",
    "concentration": "concentration",
    "spread": "spread_bps",
    "depth": "depth",
}

_SCALAR: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
    "abs_gt": lambda v, limit: abs(v) > limit,
    "abs_lt": lambda v, limit: abs(v) < limit,
}
_VECTOR: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "gt": np.greater,
    "ge": np.greater_equal,
    "lt": np.less,
    "le": np.less_equal,
    "abs_gt": lambda v, limit: np.abs(v) > limit,
    "abs_lt": lambda v, limit: np.abs(v) < limit,
}


class GuardLevel(IntEnum):
    OK = 0
    WARNING = 1
    BREACHED = 2


@dataclass(frozen=True, slots=True)
class GuardReading:
    """A guard as it stands: its last reading (None before the first) and the level that reading is at."""

    guard: str
    metric: str
    scope: str | None
    value: float | None
    level: GuardLevel
    limit: Decimal
    action: str
    at: datetime | None = None  # when the reading was taken: a guard whose reading is old is not watching

    def age_seconds(self, now: datetime) -> float | None:
        return None if self.at is None else (now - self.at).total_seconds()


@dataclass(frozen=True)
class Guard:
    name: str
    metric: str
    rule: GuardConfig

    @property
    def critical(self) -> bool:
        return self.rule.action != "warn"

    def level(self, value: Decimal) -> GuardLevel:
        compare = _SCALAR[self.rule.comparison]
        if compare(value, self.rule.limit):
            return GuardLevel.BREACHED
        if compare(value, self.rule.warning_threshold):
            return GuardLevel.WARNING
        return GuardLevel.OK

    def check(self, value: Decimal, scope: str | None = None) -> GuardLevel:
        """The level of `value`; a breach raises the guard's failure instead."""
        found = self.level(value)
        if found is GuardLevel.BREACHED:
            raise self.failure(value, scope)
        return found

    def levels(self, values: np.ndarray) -> np.ndarray:
        """The level of every value of a float series (NaN, a metric not yet defined, is OK)."""
        compare = _VECTOR[self.rule.comparison]
        with np.errstate(invalid="ignore"):
            breached = compare(values, float(self.rule.limit))
            warned = compare(values, float(self.rule.warning_threshold))
        return np.where(breached, GuardLevel.BREACHED, np.where(warned, GuardLevel.WARNING, GuardLevel.OK)).astype(
            np.int8
        )

    def failure(self, value: Decimal, scope: str | None = None) -> RiskGuardError:
        kind = RiskGuardCriticalError if self.critical else RiskGuardRecoverableError
        return kind(
            self.name,
            self.metric,
            value,
            self.rule.limit,
            self.rule.comparison,
            self.rule.message,
            self.rule.action,
            scope,
        )


# A loss guard in dollars watches the same loss unscaled (the metric names of before limits were shares,
# so that a breach recorded then still reads as dollars).
_USD_METRICS: dict[str, str] = {"daily_loss": "daily_loss", "hourly_loss": "hourly_loss"}


def guard_metric(name: str, rule: GuardConfig) -> str:
    """The metric guard `name` watches under `rule`."""
    if isinstance(rule, LossGuardConfig) and rule.unit == "usd":
        return _USD_METRICS[name]
    return GUARD_METRICS[name]


def build_guards(config: Guards) -> list[Guard]:
    """The enabled guards of a configuration."""
    return [
        Guard(name, guard_metric(name, getattr(config, name)), getattr(config, name))
        for name in type(config).model_fields
        if getattr(config, name).enabled
    ]
