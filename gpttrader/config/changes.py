"""What a profile re-read would change in a running bot, and in which direction.

A running bot may take a new configuration of its protections at once when the change only tightens them (a
lower limit, a guard switched on or made more severe, fewer orders a minute); one that loosens them needs an
operator's reason, recorded. Anything else (symbols, the strategy, the broker, how orders are sent) shapes
what the bot is, and needs a restart: a reload that changes it is refused whole.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gpttrader.config.guards import UPPER_COMPARISONS, LossGuardConfig
from gpttrader.config.models import BotConfig

# Limits where a lower value is tighter (a missing one means no limit at all: the loosest).
_LOWER_IS_TIGHTER = frozenset(
    {
        "risk.max_notional_per_position",
        "risk.max_exposure_fraction",
        "risk.max_position_fraction",
        "risk.max_leverage",
        "risk.max_impact_bps",
        "sizing.fraction",
        "sizing.notional",
        "sizing.kelly_fraction_cap",
        "order_limits.per_minute",
        "order_limits.per_hour",
        "order_limits.per_day",
    }
)
_HIGHER_IS_TIGHTER = frozenset({"order_limits.min_interval_seconds", "sizing.min_fraction"})
_SEVERITY = {"warn": 0, "reduce_only": 1, "halt": 2}


@dataclass(frozen=True)
class Change:
    path: str
    old: Any
    new: Any

    def line(self) -> str:
        return f"{self.path}: {self.old} -> {self.new}"


@dataclass
class Changes:
    tightened: list[Change] = field(default_factory=list)
    loosened: list[Change] = field(default_factory=list)
    restart: list[Change] = field(default_factory=list)  # need a restart: the reload is refused

    @property
    def any(self) -> bool:
        return bool(self.tightened or self.loosened or self.restart)


def compare(old: BotConfig, new: BotConfig) -> Changes:
    changes = Changes()
    for change in _differences(_flat(old), _flat(new)):
        _classify(change, old, new, changes)
    return changes


def _flat(config: BotConfig) -> dict[str, Any]:
    """Every setting by its dotted path (a dict's entries too: a symbol's position limit, a regime's scale)."""
    flat: dict[str, Any] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))
        else:
            flat[path] = value

    walk(config.model_dump(exclude={"credentials", "risk_limits"}), "")
    limits = config.risk_limits
    if limits is not None:  # the limits file: its per-symbol caps protect like the profile's own
        for symbol, limit in limits.symbols.items():
            flat[f"risk_limits.{symbol}.max_notional"] = limit.max_notional
            flat[f"risk_limits.{symbol}.max_leverage"] = limit.max_leverage
        flat["risk_limits.max_leverage"] = limits.max_leverage
    return flat


def _differences(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
    for path in sorted(set(old) | set(new)):
        if old.get(path) != new.get(path):
            yield Change(path, old.get(path), new.get(path))


def _classify(change: Change, old: BotConfig, new: BotConfig, into: Changes) -> None:
    path, parts = change.path, change.path.split(".")
    if path in _LOWER_IS_TIGHTER or parts[0] == "risk_limits" or path.startswith("risk.max_position_size."):
        (into.tightened if _lower(change.new, change.old) else into.loosened).append(change)
    elif path in _HIGHER_IS_TIGHTER:
        (into.tightened if _lower(change.old, change.new) else into.loosened).append(change)
    elif parts[0] == "guards" and len(parts) == 3:
        # A limit in another unit (a share of equity against dollars) has no direction: an operator says why.
        same_unit = _unit(old, parts[1]) == _unit(new, parts[1])
        tighter = same_unit and _guard_tighter(parts[1], parts[2], change, new)
        (into.tightened if tighter else into.loosened).append(change)
    elif path.startswith("sizing.regime_scales."):
        (into.tightened if _lower(change.new, change.old) else into.loosened).append(change)
    else:
        into.restart.append(change)


def _lower(a: Any, b: Any) -> bool:
    """Whether limit `a` is at most `b`; None is no limit (the highest)."""
    if a is None:
        return b is None
    return b is None or Decimal(str(a)) <= Decimal(str(b))


def _unit(config: BotConfig, guard: str) -> str | None:
    """A loss guard's unit (None for the other guards)."""
    rule = getattr(config.guards, guard)
    return rule.unit if isinstance(rule, LossGuardConfig) else None


def _guard_tighter(name: str, rule: str, change: Change, new: BotConfig) -> bool:
    if rule == "enabled":
        return bool(change.new)
    if rule == "action":
        return _SEVERITY[change.new] >= _SEVERITY[change.old]
    if rule == "limit":
        upper = getattr(new.guards, name).comparison in UPPER_COMPARISONS
        return _lower(change.new, change.old) if upper else _lower(change.old, change.new)
    if rule == "warn_at":  # a smaller share warns earlier, below an upper limit and above a lower one alike
        return _lower(change.new, change.old)
    if rule == "cooldown_seconds":  # a shorter cooldown reports sooner
        return _lower(change.new, change.old)
    return False  # the comparison itself, or the message: no direction, so an operator says why
