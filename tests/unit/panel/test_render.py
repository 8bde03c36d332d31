"""What the panel says about a bot's state: the reason first, each count and figure once and the same way
everywhere, and only the guards that need a look."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from gpttrader.engine.state import BotState, OrderView, SizingView
from gpttrader.engine.telemetry import CycleMetrics
from gpttrader.monitoring import Banner, Health, Resources
from gpttrader.panel import render
from gpttrader.panel.view import StoredView
from gpttrader.risk import GuardLevel, GuardReading

NOW = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def guard(
    name: str, metric: str, value: float | None, limit: str, level: GuardLevel, scope: str | None = None
) -> GuardReading:
    return GuardReading(name, metric, scope, value, level, Decimal(limit), "reduce_only", NOW - timedelta(seconds=3))


HOURLY = guard("hourly_loss", "hourly_loss", 122.13, "100", GuardLevel.BREACHED)
QUIET = tuple(guard("spread", "spread_bps", 2.5, "50", GuardLevel.OK, scope=f"P{i}-USD") for i in range(40))


def view(**changes: Any) -> BotState:
    state = BotState(
        profile="paper",
        at=NOW,
        counts=CycleMetrics(cycles=30, bars=30, decisions=14, orders=0, rejected=14, fills=2, errors=0),
        trading_state="active",
        paused=False,
        config_version=1,
        equity=Decimal("9877.87"),
        cash=Decimal("9877.87"),
        realized=Decimal("-122.13"),
        unrealized=Decimal(0),
        fees=Decimal("120.00"),
        positions=(),
        orders=(),
        marks={},
        mark_ages={},
        guards=(HOURLY, *QUIET),
        risk_counters={},
        execution={},
        resources=Resources(None, None, None, None, None, None),
        alert_delivery=None,
        health=Health(),
        banner=None,
        alerts=(),
        active_alerts=frozenset(),
        sizing=SizingView("fixed_fraction", 20, Decimal("0.01"), (), (), None),
    )
    return replace(state, **changes)


GUARD_TRIP = {"from": "active", "to": "reduce_only", "by": "system", "reason": "guard hourly_loss"}
BREAKER = Banner("critical", "execution health critical: see the execution alerts")


def test_a_guard_trip_is_shown_by_its_cause_not_as_execution_health() -> None:
    tripped = view(trading_state="reduce_only", banner=BREAKER)
    shown = render.banner_html(tripped, GUARD_TRIP)
    assert "reduce-only (guard hourly_loss breached: 122.13 against a limit of 100.00)" in shown
    assert "orders that would grow a position are refused" in shown
    assert "press Resume" in shown
    assert "execution health" not in shown  # the breaker alone, no execution alert behind it
    assert "gt-banner gt-warning" in shown


def test_an_operators_state_change_names_the_operator_and_a_real_execution_problem_still_shows() -> None:
    failing = view(
        trading_state="halted",
        banner=BREAKER,
        health=Health(success_rate=0.5),
    )
    change = {
        "from": "active",
        "to": "halted",
        "by": "operator",
        "operator": "ops",
        "reason": "kill switch: fat finger",
    }
    shown = render.banner_html(failing, change)
    assert "halted (set by ops: kill switch: fat finger): no order is placed" in shown
    assert "execution health critical" in shown
    assert "gt-banner gt-critical" in shown


def test_a_pause_is_a_reason_and_an_active_bot_has_no_banner() -> None:
    assert "paused: the strategy&#x27;s decisions are not acted on" in render.banner_html(view(paused=True), None)
    assert render.banner_html(view(), None) == '<div class="gt-banner gt-ok"></div>'
    assert "market data stale" in render.banner_html(view(banner=Banner("warning", "market data stale")), None)


def test_guards_are_collapsed_to_those_at_a_warning_or_breach_with_all_on_demand() -> None:
    collapsed = render.guards_html(view().guards, NOW)
    assert "Guards: 1 of 41 at a warning or breach" in collapsed
    assert collapsed.count("<tr>") == 2  # the header and hourly_loss
    assert "P1-USD" not in collapsed
    everything = render.guards_html(view().guards, NOW, show_all=True)
    assert everything.count("<tr>") == 42
    calm = render.guards_html(QUIET, NOW)
    assert "gt-empty" in calm
    assert "All 40 guards ok." in calm


def test_a_loss_reads_as_the_risk_log_writes_it_and_each_unit_its_own_way() -> None:
    shown = render.guards_html((HOURLY,), NOW)
    assert "<td>122.13</td>" in shown  # the log's figure, not -122.1 or 122.1
    assert "<td>100.00</td>" in shown
    assert render.guard_figure("hourly_loss_share", 0.0122) == "1.22%"  # a limit as a share of equity
    assert render.guard_figure("drawdown", 0.0312) == "3.12%"
    assert render.guard_figure("consecutive_losses", 3.0) == "3"
    assert render.guard_figure("mark_age_seconds", 12.4) == "12s"
    assert render.guard_figure("spread_bps", Decimal(50)) == "50.0 bp"


def test_counts_say_what_orders_and_fills_count() -> None:
    summary = render.summary_html(view())
    assert "14 decisions: 0 orders placed, 14 refused by risk; 2 fills (exits and flattening included)" in summary
    stored = render.stored_html(
        StoredView(
            Path("/tmp/state"),
            first_run=False,
            state="active",
            last_session={
                "profile": "paper",
                "cycles": 30,
                "bars": 30,
                "decisions": 14,
                "orders": 0,
                "rejected": 14,
                "fills": 2,
                "errors": 0,
                "state": "active",
                "equity": "9877.87",
                "positions": {},
            },
        ),
        "paper",
    )
    assert "last session: 30 cycles, 14 decisions: 0 orders placed, 14 refused by risk; 2 fills" in stored


def test_the_equity_line_is_drawn_in_place_once_there_are_two_points() -> None:
    assert "gt-empty" in render.equity_svg([NOW], [10_000.0])
    drawn = render.equity_svg([NOW, NOW + timedelta(minutes=1)], [10_000.0, 9_877.87])
    assert "<polyline" in drawn
    assert "9,877.87" in drawn


def test_an_order_shows_the_tail_of_its_id_with_the_whole_id_on_hover() -> None:
    order = OrderView(
        "paper-BTC-USD-20260302143000-entry-7f3a9c2b",
        "BTC-USD",
        "BUY",
        "LIMIT",
        Decimal("0.01"),
        Decimal(0),
        Decimal("64000"),
        "OPEN",
        12.0,
    )
    shown = render.orders_html((order,))
    assert '<span title="paper-BTC-USD-20260302143000-entry-7f3a9c2b">…try-7f3a9c2b</span>' in shown
    assert "<td>64,000.00</td>" in shown
