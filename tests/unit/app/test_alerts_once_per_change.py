"""A notebook's session prints an alert when it first fires and when its message changes, not every cooldown
while its condition lasts; the event store keeps every one."""

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gpttrader.app.sessions import alerts_once_per_change
from gpttrader.domain.events import EventType
from gpttrader.engine.alert_sink import AlertSink
from gpttrader.monitoring import Alert
from gpttrader.store import DATABASE_FILE, Database, EventStore

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def alert(rule: str, message: str, minutes: int) -> Alert:
    return Alert(rule, "risk", "warning", message, "read the guard events", START + timedelta(minutes=minutes))


def test_an_alert_is_printed_once_per_change(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    events = EventStore(Database(tmp_path / DATABASE_FILE))
    sink = AlertSink(events, None)
    raised = [
        alert("reduce_only_active", "reduce-only", 0),
        alert("daily_loss_warning", "daily loss 61.01", 0),
        alert("reduce_only_active", "reduce-only", 5),
        alert("daily_loss_warning", "daily loss 122.14", 5),
        alert("reduce_only_active", "reduce-only", 10),
        alert("daily_loss_warning", "daily loss 122.14", 10),
    ]
    with caplog.at_level(logging.WARNING), alerts_once_per_change():
        for each in raised:
            sink(each)
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        "alert reduce_only_active: reduce-only",
        "alert daily_loss_warning: daily loss 61.01",
        "alert daily_loss_warning: daily loss 122.14",
    ]
    assert len(list(events.read(types=[EventType.ALERT]))) == len(raised)

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        sink(raised[0])  # outside a session's notebook: every alert is logged
        sink(raised[0])
    assert len(caplog.records) == 2
