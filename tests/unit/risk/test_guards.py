"""Every shipped guard at, just under and just over its limit and at the edge of its warning band, and the
scalar and vectorized evaluations agreeing."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gpttrader.config.guards import GuardConfig, Guards
from gpttrader.risk import (
    FixedFractionSizer,
    Guard,
    GuardLevel,
    LiveRiskManager,
    MemoryJournal,
    RiskGuardCriticalError,
    RiskGuardRecoverableError,
    TradeLimits,
    TradingState,
    build_guards,
)
from gpttrader.risk.guards import GUARD_METRICS

OK, WARNING, BREACHED = GuardLevel.OK, GuardLevel.WARNING, GuardLevel.BREACHED
T0 = datetime(2026, 1, 5, 12, tzinfo=UTC)
SHIPPED = list(Guards.model_fields)

# What each comparison makes of a value just under, at and just over the limit, and exactly at the start of
# the warning band (limit x warn_at for upper limits, limit / warn_at for lower ones).
EXPECTED = {
    "ge": {"under": WARNING, "at": BREACHED, "over": BREACHED, "band_edge": WARNING},
    "gt": {"under": WARNING, "at": WARNING, "over": BREACHED, "band_edge": OK},
    "le": {"under": BREACHED, "at": BREACHED, "over": WARNING, "band_edge": WARNING},
    "lt": {"under": BREACHED, "at": WARNING, "over": WARNING, "band_edge": OK},
}


def manager(guards: Guards | None = None) -> LiveRiskManager:
    return LiveRiskManager(
        guards=build_guards(guards or Guards()),
        limits=TradeLimits(),
        sizer=FixedFractionSizer(),
        journal=MemoryJournal(),
    )


def probes(rule: GuardConfig) -> dict[str, Decimal]:
    epsilon = rule.limit * Decimal("1e-6")
    band_edge = rule.limit * rule.warn_at if rule.comparison in ("gt", "ge") else rule.limit / rule.warn_at
    return {"under": rule.limit - epsilon, "at": rule.limit, "over": rule.limit + epsilon, "band_edge": band_edge}


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("where", ["under", "at", "over", "band_edge"])
def test_each_shipped_guard_around_its_limit(name: str, where: str) -> None:
    risk = manager()
    rule: GuardConfig = getattr(Guards(), name)
    value = probes(rule)[where]
    expected = EXPECTED[rule.comparison][where]
    # Other guards may watch the same metric (volatility and its kill switch): look at this one's events.
    risk.observe(GUARD_METRICS[name], value, T0, scope="BTC-USD")
    mine = [e for e in risk.journal.events if e.payload.get("guard") == name]  # type: ignore[attr-defined]
    kinds = {OK: [], WARNING: ["risk.guard_warning"], BREACHED: ["risk.guard_breached"]}[expected]
    assert [e.type for e in mine] == kinds
    severity = "critical" if rule.action != "warn" else "recoverable"
    assert risk.counters[f"risk.guards.{name}.{severity}_failures"] == (1 if expected is BREACHED else 0)


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_guard_is_quiet_well_inside_its_limit(name: str) -> None:
    risk = manager()
    rule: GuardConfig = getattr(Guards(), name)
    safe = rule.limit * rule.warn_at / 2 if rule.comparison in ("gt", "ge") else rule.limit / rule.warn_at * 2
    risk.observe(GUARD_METRICS[name], safe, T0)
    assert [e for e in risk.journal.events if e.payload.get("guard") == name] == []  # type: ignore[attr-defined]
    assert risk.state is TradingState.ACTIVE


@pytest.mark.parametrize(
    ("comparison", "value", "expected"),
    [
        ("abs_gt", Decimal("-10.5"), BREACHED),
        ("abs_gt", Decimal("-10"), WARNING),
        ("abs_gt", Decimal("9"), WARNING),
        ("abs_gt", Decimal("-7"), OK),
        ("abs_lt", Decimal("-0.5"), BREACHED),
        ("abs_lt", Decimal("10"), WARNING),
        ("abs_lt", Decimal("-12"), WARNING),
        ("abs_lt", Decimal("-13"), OK),
    ],
)
def test_absolute_comparisons_look_at_the_magnitude(comparison: str, value: Decimal, expected: GuardLevel) -> None:
    # limit 10, warn_at 0.8: abs_gt warns above 8, abs_lt warns below 12.5
    rule = GuardConfig.model_validate({"comparison": comparison, "limit": 10, "action": "warn"})
    assert Guard("custom", "pnl", rule).level(value) is expected


def test_a_breach_raises_the_structured_error_for_its_severity() -> None:
    critical = Guard("max_drawdown", "drawdown", Guards().max_drawdown)
    with pytest.raises(RiskGuardCriticalError) as info:
        critical.check(Decimal("0.12"))
    assert (info.value.guard, info.value.action, info.value.limit) == ("max_drawdown", "reduce_only", Decimal("0.10"))
    assert "drawdown 0.12 ge 0.10" in str(info.value)
    recoverable = Guard("spread", "spread_bps", Guards().spread)
    with pytest.raises(RiskGuardRecoverableError):
        recoverable.check(Decimal(51), "BTC-USD")
    assert recoverable.check(Decimal(45)) is WARNING


def test_a_critical_breach_moves_the_state_and_a_recoverable_one_does_not() -> None:
    risk = manager()
    risk.observe("spread_bps", 80, T0, scope="BTC-USD")
    assert risk.state is TradingState.ACTIVE
    assert risk.counters["risk.guards.spread.recoverable_failures"] == 1
    risk.observe("drawdown", 0.11, T0)
    assert risk.state is TradingState.REDUCE_ONLY
    assert risk.counters["risk.guards.max_drawdown.critical_failures"] == 1
    risk.observe("error_rate", 0.55, T0)
    assert risk.state is TradingState.HALTED
    kinds = [e.type for e in risk.journal.events]  # type: ignore[attr-defined]
    assert kinds == [
        "risk.guard_breached",
        "risk.guard_breached",
        "risk.state_changed",
        "risk.guard_breached",
        "risk.state_changed",
    ]


def test_a_guard_reports_once_per_excursion_and_again_after_it_recovers() -> None:
    risk = manager()
    for value in (0.05, 0.085, 0.09, 0.11, 0.12, 0.02, 0.11):
        risk.observe("drawdown", value, T0)
    kinds = [e.type for e in risk.journal.events if e.type != "risk.state_changed"]  # type: ignore[attr-defined]
    assert kinds == ["risk.guard_warning", "risk.guard_breached", "risk.guard_breached"]


def test_cooldown_silences_a_repeat_within_it_but_not_after() -> None:
    guards = Guards.model_validate(
        {"spread": {"comparison": "gt", "limit": 50, "action": "warn", "cooldown_seconds": 60}}
    )
    risk = manager(guards)
    for seconds, value in ((0, 60), (10, 10), (30, 60), (70, 10), (75, 60)):
        risk.observe("spread_bps", value, T0 + timedelta(seconds=seconds))
    breaches = [e.time for e in risk.journal.events if e.type == "risk.guard_breached"]  # type: ignore[attr-defined]
    assert breaches == [T0, T0 + timedelta(seconds=75)]


def test_disabled_guards_are_not_built() -> None:
    guards = Guards.model_validate(
        {"max_drawdown": {"comparison": "ge", "limit": "0.1", "action": "reduce_only", "enabled": False}}
    )
    assert "max_drawdown" not in {g.name for g in build_guards(guards)}
    assert manager(guards).observe("drawdown", 0.5, T0) is OK


comparisons = st.sampled_from(["gt", "ge", "lt", "le", "abs_gt", "abs_lt"])
values = st.floats(min_value=-1000, max_value=1000, allow_nan=False).map(lambda v: round(v, 3))


@given(
    comparisons,
    st.integers(min_value=0, max_value=500),
    st.sampled_from(["0.5", "0.8", "1"]),
    st.lists(values, min_size=1, max_size=30),
)
def test_the_vectorized_levels_equal_the_scalar_ones(
    comparison: str, limit: int, warn_at: str, series: list[float]
) -> None:
    rule = GuardConfig.model_validate({"comparison": comparison, "limit": limit, "warn_at": warn_at, "action": "warn"})
    guard = Guard("g", "m", rule)
    vector = guard.levels(np.array(series))
    assert [GuardLevel(int(v)) for v in vector] == [guard.level(Decimal(repr(v))) for v in series]


def test_series_transitions_match_one_reading_at_a_time() -> None:
    series = np.array([0.01, 0.05, 0.085, 0.07, 0.09, 0.105, 0.2, 0.03, 0.095])
    times = [T0 + timedelta(minutes=i) for i in range(len(series))]
    one, many = manager(), manager()
    for value, at in zip(series, times, strict=True):
        one.observe("drawdown", value, at)
    many.apply(many.guard_transitions("drawdown", series), times)
    strip = lambda events: [(e.time, e.type, e.payload.get("guard")) for e in events]  # noqa: E731
    assert strip(many.journal.events) == strip(one.journal.events)  # type: ignore[attr-defined]
    assert many.state is one.state is TradingState.REDUCE_ONLY
    assert many.counters == one.counters
