"""The performance report's risk table: the columns a reader needs, in time order, one session at a time
unless asked for all, read back from a real event store."""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd

from gpttrader.domain.events import EventType
from gpttrader.reports.session import RISK_COLUMNS, SessionReport, session_report
from gpttrader.store import DATABASE_FILE, Database, EventStore


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 3, 2, hour, minute, tzinfo=UTC)


def started(events: EventStore, time: datetime) -> None:
    payload = {
        "profile": "paper",
        "strategy": "ma_cross",
        "granularity": "ONE_MINUTE",
        "symbols": ["BTC-USD"],
        "state": "active",
        "equity": Decimal(100_000),
        "warmup_bars": 20,
        "reconcile": {},
    }
    events.append(EventType.BOT_STARTED, payload, time=time)


def breached(events: EventStore, time: datetime, value: str) -> None:
    payload = {
        "guard": "daily_loss",
        "metric": "daily_loss",
        "value": value,
        "limit": "0.02",
        "comparison": "ge",
        "action": "reduce_only",
        "scope": None,
        "message": "loss since 00:00 UTC",
        "severity": "critical",
    }
    events.append(EventType.RISK_GUARD_BREACHED, payload, time=time)


def rejected(events: EventStore, time: datetime) -> None:
    payload = {
        "client_order_id": "paper-BTC-USD-0",
        "product_id": "BTC-USD",
        "side": "BUY",
        "size": "0.1",
        "check": "reduce_only",
        "reason": "reduce_only",
        "message": "reduce-only mode: BUY 0.1 would take BTC-USD from 0 to 0.1",
        "state": "reduce_only",
    }
    events.append(EventType.RISK_ORDER_REJECTED, payload, time=time)


def test_the_risk_table_shows_the_latest_session_in_time_order(tmp_path: Path) -> None:
    events = EventStore(Database(tmp_path / DATABASE_FILE))
    started(events, at(9, 0))
    breached(events, at(9, 30), "0.031")
    warning = {"guard": "daily_loss", "metric": "daily_loss", "value": 0.016, "scope": None, "limit": "0.02"}
    events.append(EventType.RISK_GUARD_WARNING, {**warning, "warning": "0.015"}, time=at(9, 20))
    # The next session ran on a sandbox's virtual clock, whose times start before the first one's.
    started(events, at(8, 0))
    rejected(events, at(8, 20))
    events.append(
        EventType.RISK_STATE_CHANGED,
        {"from": "active", "to": "reduce_only", "reason": "guard daily_loss", "by": "system"},
        time=at(8, 10),
    )

    report = session_report(tmp_path)
    assert report.sessions == [pd.Timestamp(at(9, 0)), pd.Timestamp(at(8, 0))]  # in the order they ran
    latest = report.risk_table()
    assert list(latest.columns) == RISK_COLUMNS
    assert latest[["event", "subject"]].values.tolist() == [
        ["state changed", "active -> reduce_only"],
        ["order rejected", "reduce_only"],
    ]
    assert latest["detail"].tolist()[0] == "guard daily_loss (by system)"
    assert latest["product"].tolist()[1] == "BTC-USD"

    first = report.risk_table(at(9, 0).isoformat())
    assert first[["event", "subject", "value", "limit", "detail"]].values.tolist() == [
        ["guard warning", "daily_loss", 0.016, "0.02", "past its warning level 0.015"],
        ["guard breached", "daily_loss", 0.031, "0.02", "loss since 00:00 UTC; action reduce_only"],
    ]
    assert report.risk_table("all")["time"].tolist() == [at(8, 10), at(8, 20), at(9, 20), at(9, 30)]


def test_a_store_without_risk_events_has_an_empty_table(tmp_path: Path) -> None:
    EventStore(Database(tmp_path / DATABASE_FILE))
    assert list(session_report(tmp_path).risk_table().columns) == RISK_COLUMNS
    assert session_report(tmp_path / "none").risk_table().empty


def test_the_session_figure_marks_breaches_when_sessions_overlap_in_time() -> None:
    """Two paper sessions on the sandbox's virtual clock: the second starts at an earlier time than the first
    ended, so the stored equity is not in time order; the figure still marks the breach (it raised)."""
    times = pd.to_datetime(["2026-11-24 14:00", "2026-11-24 14:05", "2026-11-24 14:01", "2026-11-24 14:03"], utc=True)
    equity = pd.Series([100.0, 99.0, 100.0, 98.0], index=times, name="equity")
    breach = pd.DataFrame(
        {"type": [EventType.RISK_GUARD_BREACHED], "time": [pd.Timestamp("2026-11-24 14:04", tz="UTC")]}
    )
    figure = SessionReport(equity, pd.DataFrame(), pd.DataFrame(), breach).figure()
    (marker,) = [trace for trace in figure.data if trace.name == "guard breached"]
    assert list(marker.y) == [98.0]
