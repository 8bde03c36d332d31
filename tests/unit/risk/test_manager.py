"""The manager's trading state (only toward safety by itself, persisted in the event store), operator
actions and the kill switch, and order validation recording its rejections."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from gpttrader.config import load_config
from gpttrader.domain import OrderRequest, OrderType, Product, Side
from gpttrader.domain.events import EventType
from gpttrader.risk import GuardLevel, LiveRiskManager, MemoryJournal, TradeContext, TradingState
from gpttrader.store import Database, EventStore

NOW = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)


def live_manager(path: Path, clean_env: dict[str, str], btc: Product) -> tuple[LiveRiskManager, Database]:
    database = Database(path)
    return LiveRiskManager.from_config(load_config("canary"), EventStore(database)), database


def buy(size: str = "0.001") -> OrderRequest:
    return OrderRequest("c-1", "BTC-USD", Side.BUY, OrderType.MARKET, D(size))


def ctx(request: OrderRequest, btc: Product, **changes: object) -> TradeContext:
    fields: dict[str, object] = {
        "order": request,
        "product": btc,
        "price": D(40_000),
        "equity": D(100_000),
        "positions": {},
        "state": TradingState.ACTIVE,
        "now": NOW,
        "mark_time": NOW,
    }
    fields.update(changes)
    return TradeContext(**fields)  # type: ignore[arg-type]


def test_the_state_only_moves_toward_safety_by_itself(tmp_path: Path, clean_env: dict[str, str], btc: Product) -> None:
    risk, _ = live_manager(tmp_path / "s.sqlite", clean_env, btc)
    assert risk.state is TradingState.ACTIVE
    assert risk.escalate(TradingState.REDUCE_ONLY, "test", NOW)
    assert not risk.escalate(TradingState.ACTIVE, "recovered?", NOW)
    assert not risk.escalate(TradingState.REDUCE_ONLY, "again", NOW)
    assert risk.state is TradingState.REDUCE_ONLY
    risk.observe("drawdown", D("0.001"), NOW)  # the guard is fine again: the state stays
    assert risk.state is TradingState.REDUCE_ONLY
    assert risk.escalate(TradingState.HALTED, "test", NOW)
    assert risk.state is TradingState.HALTED


def test_a_restart_keeps_the_state_and_an_operator_moves_it_back(
    tmp_path: Path, clean_env: dict[str, str], btc: Product
) -> None:
    path = tmp_path / "s.sqlite"
    first, database = live_manager(path, clean_env, btc)
    first.observe("daily_loss_share", D("0.012"), NOW)  # the canary's 1% limit
    assert first.state is TradingState.REDUCE_ONLY
    database.close()

    second, database = live_manager(path, clean_env, btc)
    assert second.state is TradingState.REDUCE_ONLY
    with pytest.raises(ValueError, match="operator's name"):
        second.set_state(TradingState.ACTIVE, operator=" ", reason="reviewed")
    second.set_state(TradingState.ACTIVE, operator="alice", reason="loss reviewed, limit unchanged", at=NOW)
    database.close()

    third, database = live_manager(path, clean_env, btc)
    assert third.state is TradingState.ACTIVE
    changes = list(EventStore(database).read(types=[EventType.RISK_STATE_CHANGED]))
    assert [(e.payload["from"], e.payload["to"], e.payload["by"]) for e in changes] == [
        ("active", "reduce_only", "system"),
        ("reduce_only", "active", "operator"),
    ]
    assert changes[1].payload["operator"] == "alice"
    assert changes[1].payload["reason"] == "loss reviewed, limit unchanged"
    assert changes[0].payload["reason"] == "guard daily_loss"
    database.close()


def test_after_an_operator_resumes_a_still_breached_guard_trips_again(btc: Product, clean_env: dict[str, str]) -> None:
    risk = LiveRiskManager.from_config(load_config("canary"), MemoryJournal())
    risk.observe("daily_loss_share", D("0.012"), NOW)
    risk.set_state(TradingState.ACTIVE, operator="alice", reason="checking", at=NOW)
    risk.observe("daily_loss_share", D("0.012"), NOW + timedelta(minutes=1))
    assert risk.state is TradingState.REDUCE_ONLY


def test_kill_switch_halts_and_is_recorded(tmp_path: Path, clean_env: dict[str, str], btc: Product) -> None:
    risk, database = live_manager(tmp_path / "s.sqlite", clean_env, btc)
    risk.engage_kill_switch(operator="bob", reason="exchange incident", at=NOW)
    assert risk.state is TradingState.HALTED
    types = [e.type for e in EventStore(database).read()]
    assert types == ["risk.kill_switch", "risk.state_changed"]
    decision = risk.validate(ctx(buy(), btc))
    assert decision.rejection is not None
    assert decision.rejection.reason == "halted"
    database.close()


def test_validate_uses_the_managers_state_and_records_the_reject(
    tmp_path: Path, clean_env: dict[str, str], btc: Product
) -> None:
    risk, database = live_manager(tmp_path / "s.sqlite", clean_env, btc)
    assert risk.validate(ctx(buy(), btc)).passed
    outside = risk.validate(ctx(buy(), btc, now=NOW.replace(hour=16), mark_time=NOW.replace(hour=16)))
    assert outside.rejection is not None
    assert outside.rejection.reason == "outside_trading_window"
    risk.escalate(TradingState.REDUCE_ONLY, "test", NOW)
    # the context says ACTIVE, but the manager's own state decides
    assert not risk.validate(ctx(buy(), btc)).passed
    rejected = list(EventStore(database).read(types=[EventType.RISK_ORDER_REJECTED]))
    assert [e.payload["reason"] for e in rejected] == ["outside_trading_window", "reduce_only"]
    assert rejected[1].payload["state"] == "reduce_only"
    assert risk.counters["risk.checks.reduce_only.rejections"] == 1
    database.close()


def test_the_venue_preview_is_the_last_check_when_enabled(clean_env: dict[str, str], btc: Product) -> None:
    asked: list[str] = []

    def preview(order: OrderRequest) -> str | None:
        asked.append(order.client_order_id)
        return "INSUFFICIENT_FUND"

    config = load_config("canary", overrides={"risk": {"use_order_preview": True}})
    risk = LiveRiskManager.from_config(config, MemoryJournal(), preview=preview)
    decision = risk.validate(ctx(buy(), btc))
    assert asked == ["c-1"]
    assert decision.rejection is not None
    assert (decision.rejection.check, decision.rejection.message) == ("order_preview", "INSUFFICIENT_FUND")
    # not asked when an own check already refused, nor when the profile does not enable it
    risk.validate(ctx(buy("1"), btc))
    assert asked == ["c-1"]
    off = LiveRiskManager.from_config(load_config("canary"), MemoryJournal(), preview=preview)
    assert off.validate(ctx(buy(), btc)).passed


def test_a_replica_starts_fresh_and_leaves_the_original_alone(clean_env: dict[str, str], btc: Product) -> None:
    risk = LiveRiskManager.from_config(load_config("canary"), MemoryJournal())
    risk.escalate(TradingState.HALTED, "test", NOW)
    journal = MemoryJournal()
    copy = risk.replica(journal, lambda: NOW)
    assert copy.state is TradingState.ACTIVE
    copy.observe("drawdown", 0.5, NOW)
    assert copy.state is TradingState.REDUCE_ONLY
    assert risk.state is TradingState.HALTED
    assert [e.type for e in journal.events] == ["risk.guard_breached", "risk.state_changed"]
    assert all(e.time == NOW for e in journal.events)


def test_readings_show_every_guard_with_its_last_value_and_level(clean_env: dict[str, str]) -> None:
    risk = LiveRiskManager.from_config(load_config("canary"), MemoryJournal())
    before = {r.guard: r for r in risk.readings()}
    assert set(before) == {g.name for g in risk.guards}
    assert before["daily_loss"].value is None
    assert before["daily_loss"].level is GuardLevel.OK
    risk.observe("daily_loss_share", D("0.008"), NOW)  # the canary's 1% limit warns from 80%
    risk.observe("mark_age_seconds", 1, NOW, "BTC-USD")
    risk.observe("mark_age_seconds", 2, NOW, "ETH-USD")
    after = risk.readings()
    loss = next(r for r in after if r.guard == "daily_loss")
    assert (loss.value, loss.level, loss.limit) == (0.008, GuardLevel.WARNING, D("0.01"))
    stale = {r.scope: r.value for r in after if r.metric == "mark_age_seconds"}
    assert stale == {"BTC-USD": 1.0, "ETH-USD": 2.0}
