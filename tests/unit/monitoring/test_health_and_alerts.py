"""Freshness, execution health, the banner's priority, and every alert rule at its threshold with its
cooldown and history."""

from datetime import UTC, datetime, timedelta

import pytest

from gpttrader.monitoring import RULES, AlertBook, Health, banner, execution_health, freshness

T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("age", "healthy", "expected"),
    [
        (9.99, True, "fresh"),
        (10, True, "stale"),
        (30, True, "stale"),
        (30.01, True, "critical"),
        (1, False, "critical"),
    ],
)
def test_freshness(age: float, healthy: bool, expected: str) -> None:
    assert freshness(age, connection_healthy=healthy) == expected


@pytest.mark.parametrize(
    ("rate", "open_", "expected"),
    [
        (1.0, False, "ok"),
        (0.95, False, "ok"),
        (0.9499, False, "warning"),
        (0.80, False, "warning"),
        (0.7999, False, "critical"),
        (1.0, True, "critical"),
    ],
)
def test_execution_health(rate: float, open_: bool, expected: str) -> None:
    assert execution_health(rate, breaker_open=open_) == expected


def test_the_banner_shows_one_thing_by_priority() -> None:
    first = banner(reconnecting=True, degraded=True, execution="critical", data="critical")
    assert first is not None
    assert first.text.startswith("reconnecting")
    second = banner(reconnecting=False, degraded=True, execution="critical", data="critical")
    assert second is not None
    assert second.text.startswith("degraded")
    shown = banner(reconnecting=False, degraded=False, execution="warning", data="critical")
    assert shown is not None
    assert (shown.level, shown.text) == ("warning", "execution health warning: see the execution alerts")
    stale = banner(reconnecting=False, degraded=False, execution="ok", data="stale")
    assert stale is not None
    assert (stale.level, stale.text) == ("warning", "market data stale")
    assert banner(reconnecting=False, degraded=False, execution="ok", data="fresh") is None
    garbled = banner(reconnecting=False, degraded=True, execution="ok", data="fresh", malformed=["list accounts"])
    assert garbled is not None
    assert garbled.level == "critical"
    assert "malformed answers from list accounts" in garbled.text


# For each rule: a health that just fires it, and one just short of it.
CASES = {
    "connection_lost": (Health(connected=False), Health()),
    "rate_limit_high": (Health(rate_limited=3), Health(rate_limited=2)),
    "bot_stopped": (Health(running=False), Health()),
    "circuit_breaker_open": (Health(state="halted"), Health(state="active")),
    "execution_critical": (Health(success_rate=0.79), Health(success_rate=0.80)),
    "execution_degraded": (Health(success_rate=0.80), Health(success_rate=0.95)),
    "execution_p95_spike": (Health(latency_p95_ms=1000.1), Health(latency_p95_ms=1000)),
    "execution_retry_high": (Health(retries_per_order=0.51), Health(retries_per_order=0.5)),
    "reduce_only_active": (Health(state="reduce_only"), Health(state="active")),
    "daily_loss_warning": (Health(daily_loss=8, daily_loss_limit=10), Health(daily_loss=7.99, daily_loss_limit=10)),
    "large_unrealized_loss": (
        Health(equity=1000, unrealized_pnl={"BTC-USD": -50.01}),
        Health(equity=1000, unrealized_pnl={"BTC-USD": -50}),
    ),
    "stale_open_orders": (Health(open_order_ages={"o-1": 600.1}), Health(open_order_ages={"o-1": 600})),
    "failed_orders": (Health(failed_orders=3), Health(failed_orders=2)),
    "expired_orders": (Health(expired_orders=1), Health(expired_orders=0)),
    "malformed_answers": (Health(malformed={"list accounts": 1}), Health()),
    "order_fate_unknown": (Health(unresolved_orders={"BTC-USD-x-0": "BTC-USD"}), Health()),
    "unexplained_fill": (Health(unexplained_fills=1), Health()),
    "target_unmet": (Health(unmet_targets={"BTC-USD": 5}, unmet_alert_bars=5), Health(unmet_targets={"BTC-USD": 4})),
    "holdings_moved": (Health(holdings_moved=("BTC-USD: the account holds 1.1 BTC ...: more by 0.1",)), Health()),
    "exit_unplaced": (Health(unprotected={"e-1": "exit of e-1 not placed after 3 attempts: REJECTED"}), Health()),
}


def test_every_rule_has_a_case() -> None:
    assert {rule.name for rule in RULES} == set(CASES)
    assert all(rule.hint for rule in RULES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_rule_at_its_threshold(name: str) -> None:
    fires, quiet = CASES[name]
    rule = next(r for r in RULES if r.name == name)
    assert rule.check(fires) is not None
    assert rule.check(quiet) is None


def test_cooldown_history_and_the_sink() -> None:
    delivered = []
    book = AlertBook(sink=delivered.append)
    down = Health(connected=False)
    assert [a.rule for a in book.evaluate(down, T0)] == ["connection_lost"]
    assert book.evaluate(down, T0 + timedelta(minutes=1)) == []  # still down: within the cooldown
    assert book.evaluate(Health(), T0 + timedelta(minutes=2)) == []
    assert "connection_lost" not in book.active
    assert book.evaluate(down, T0 + timedelta(minutes=3)) == []  # down again, but inside the cooldown
    again = book.evaluate(down, T0 + timedelta(minutes=5))
    assert [a.rule for a in again] == ["connection_lost"]
    assert again[0].hint.startswith("the feed reconnects")
    assert [a.at for a in book.history] == [T0, T0 + timedelta(minutes=5)]
    assert delivered == list(book.history)
