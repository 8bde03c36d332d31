"""Loss limits as a share of equity (the default) or in dollars (`unit: usd`): a share trips at the same
point of an account of any size, a dollar limit at the same amount, and a bare dollar figure written where
a share is expected is refused rather than read as a limit that never trips."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any

import numpy as np
import pytest

from gpttrader.config import ConfigError, load_config
from gpttrader.domain.events import EventType
from gpttrader.risk import LiveRiskManager, MemoryJournal, RiskJournal, TradingState
from gpttrader.risk.metrics import NS, EquityTracker

TOP_OF_HOUR = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def manager(clean_env: dict[str, str], hourly_loss: dict[str, Any]) -> LiveRiskManager:
    """The paper profile with only the hourly-loss guard on."""
    config = load_config("paper")
    guards: dict[str, Any] = {name: {"enabled": False} for name in type(config.guards).model_fields}
    return LiveRiskManager.from_config(
        load_config("paper", overrides={"guards": {**guards, "hourly_loss": hourly_loss}}), MemoryJournal()
    )


def feed(risk: LiveRiskManager, opening: float, equities: list[float]) -> list[TradingState]:
    """The live loop's readings: equity once a minute from the top of the hour; the state after each."""
    tracker = EquityTracker(opening)
    states = []
    for minute, equity in enumerate(equities, start=1):
        at = TOP_OF_HOUR + timedelta(minutes=minute)
        stamp = np.array([int(at.timestamp() * NS)], dtype=np.int64)
        for metric, values in tracker.update(stamp, np.array([equity])).items():
            risk.observe(metric, float(values[0]), at)
        states.append(risk.state)
    return states


@pytest.mark.parametrize("opening", [1_000.0, 100_000.0])
def test_a_share_of_equity_trips_at_that_share_of_the_hours_opening_equity(
    clean_env: dict[str, str], opening: float
) -> None:
    risk = manager(clean_env, {"limit": "0.02"})
    [guard] = risk.guards
    assert guard.metric == "hourly_loss_share"
    # 1.9% down (warned), then 2.1%: the same shares on a $1,000 and a $100,000 account
    states = feed(risk, opening, [opening * 0.99, opening * 0.981, opening * 0.979])
    assert states == [TradingState.ACTIVE, TradingState.ACTIVE, TradingState.REDUCE_ONLY]
    assert isinstance(risk.journal, MemoryJournal)
    [breach] = [e.payload for e in risk.journal.events if e.type is EventType.RISK_GUARD_BREACHED]
    assert (breach["metric"], breach["limit"]) == ("hourly_loss_share", "0.02")
    assert float(breach["value"]) == pytest.approx(0.021)


def test_a_round_trips_fees_on_the_paper_account_do_not_trip_the_shipped_hourly_limit(
    clean_env: dict[str, str],
) -> None:
    """The demo's case: a 10% BTC position bought and sold at 0.6% a side costs $120 of $100,000, which the
    old $100 limit took for a loss to stop."""
    risk = LiveRiskManager.from_config(load_config("paper"), MemoryJournal())
    states = feed(risk, 100_000.0, [99_940.0, 99_880.0])
    assert states[-1] is TradingState.ACTIVE


def test_a_limit_in_dollars_trips_at_that_amount_whatever_the_account(clean_env: dict[str, str]) -> None:
    risk = manager(clean_env, {"limit": 100, "unit": "usd"})
    [guard] = risk.guards
    assert guard.metric == "hourly_loss"
    # $99 is 10% of a $1,000 account but under the $100 limit; $100 trips it
    assert feed(risk, 1_000.0, [901.0, 900.0]) == [TradingState.ACTIVE, TradingState.REDUCE_ONLY]


def test_a_dollar_figure_without_its_unit_is_refused_naming_the_unit(clean_env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=r"guards.hourly_loss: limit 100 is a share of equity .* set unit: usd"):
        load_config("paper", overrides={"guards": {"hourly_loss": {"limit": 100}}})
    with pytest.raises(ConfigError, match="unit"):
        load_config("paper", overrides={"guards": {"daily_loss": {"limit": "0.05", "unit": "eur"}}})
    assert load_config("paper").guards.daily_loss.limit == D("0.05")


def old_dollar_trip(journal: RiskJournal) -> None:
    """What a paper account recorded when the $100 hourly loss tripped on one round trip's fees."""
    journal.append(
        EventType.RISK_GUARD_BREACHED,
        {
            "guard": "hourly_loss",
            "metric": "hourly_loss",
            "value": "122.13",
            "limit": "100",
            "comparison": "ge",
            "action": "reduce_only",
            "scope": None,
            "message": "loss since the top of the hour (quote currency)",
            "severity": "critical",
        },
    )
    journal.append(
        EventType.RISK_STATE_CHANGED,
        {"from": "active", "to": "reduce_only", "by": "system", "reason": "guard hourly_loss"},
    )


def test_a_simulated_account_stopped_by_a_limit_in_another_unit_starts_active(clean_env: dict[str, str]) -> None:
    journal = MemoryJournal()
    old_dollar_trip(journal)
    risk = LiveRiskManager.from_config(load_config("paper"), journal)
    assert risk.state is TradingState.ACTIVE
    lifted = journal.latest(EventType.RISK_STATE_CHANGED)
    assert lifted is not None
    assert (lifted["to"], lifted["by"]) == ("active", "system")
    assert "now watches hourly_loss_share; it tripped on hourly_loss 122.13" in lifted["reason"]


@pytest.mark.parametrize(
    ("profile", "hourly_loss"),
    [
        ("canary", {}),  # real money: an operator lifts any state
        ("paper", {"limit": 100, "unit": "usd"}),  # the same rule's breach still stands
    ],
)
def test_a_state_stays_when_its_breach_still_reads_under_the_rules_or_money_is_real(
    clean_env: dict[str, str], profile: str, hourly_loss: dict[str, Any]
) -> None:
    config = load_config(profile, overrides={"guards": {"hourly_loss": hourly_loss}})
    journal = MemoryJournal()
    old_dollar_trip(journal)
    risk = LiveRiskManager.from_config(config, journal)
    assert risk.state is TradingState.REDUCE_ONLY
