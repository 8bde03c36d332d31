"""Hot reload: a running dev bot re-reads its profile (the packaged one with the operator's file in its data
directory over it) when `gpttrader config reload` asks, or on SIGHUP. Tightening applies at once; loosening
needs a reason, recorded; a file that does not load, or a change that needs a restart, is refused and the
running configuration kept."""

import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from gpttrader.app import ApplicationContainer
from gpttrader.app.cli import main
from gpttrader.config import load_config
from gpttrader.config.loader import operator_file
from gpttrader.domain.events import EventType
from gpttrader.engine.bot import TradingBot
from gpttrader.engine.clock import FastClock
from gpttrader.panel import render
from tests.waiting import wait_for

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def write(data: Path, settings: dict[str, object]) -> None:
    path = operator_file(data, "dev")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"symbols": ["BTC-USD"], **settings}))


def limit(bot: TradingBot, guard: str) -> Decimal:
    return next(g.rule.limit for g in bot.risk.guards if g.name == guard)


def reload(data: Path, *args: str) -> int:
    return main(["config", "reload", "--profile", "dev", "--operator", "ops", "--wait", "0", *args])


@pytest.fixture
def running(tmp_path: Path, clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> TradingBot:
    monkeypatch.setenv("GPTTRADER_DATA_DIR", str(tmp_path))
    write(tmp_path, {"guards": {"daily_loss": {"limit": "0.2"}}})
    container = ApplicationContainer(load_config("dev"), clock=FastClock(START))
    bot = container.create_bot()
    bot.bootstrap()
    bot.cycle()
    return bot


def outcomes(bot: TradingBot) -> list[tuple[str, dict[str, object]]]:
    return [
        (e.type, e.payload) for e in bot.events.read(types=[EventType.CONFIG_RELOADED, EventType.CONFIG_RELOAD_REFUSED])
    ]


def test_a_tighter_limit_applies_at_the_next_cycle(running: TradingBot, tmp_path: Path) -> None:
    bot = running
    assert limit(bot, "daily_loss") == Decimal("0.2")
    write(tmp_path, {"guards": {"daily_loss": {"limit": "0.1"}}, "order_limits": {"per_minute": 5}})
    assert reload(tmp_path) == 3  # no bot answered within --wait 0: the request stands
    bot.cycle()
    assert limit(bot, "daily_loss") == Decimal("0.1")
    assert bot.risk.limits.order_rate.per_minute == 5
    assert bot.config.guards.daily_loss.limit == Decimal("0.1")
    ((kind, payload),) = outcomes(bot)
    assert kind == EventType.CONFIG_RELOADED
    assert payload["version"] == 2
    assert "tightened: guards.daily_loss.limit: 0.2 -> 0.1" in str(payload["message"])
    assert 'class="gt-config-version">v2<' in render.summary_html(bot.read_state())


def test_a_looser_limit_needs_a_reason_which_is_recorded(running: TradingBot, tmp_path: Path) -> None:
    bot = running
    write(tmp_path, {"guards": {"daily_loss": {"limit": "0.4"}}})
    reload(tmp_path)
    bot.cycle()
    assert limit(bot, "daily_loss") == Decimal("0.2")  # refused: kept
    reload(tmp_path, "--reason", "a wider daily budget for the event")
    bot.cycle()
    assert limit(bot, "daily_loss") == Decimal("0.4")
    (refused, first), (applied, second) = outcomes(bot)
    assert (refused, applied) == (EventType.CONFIG_RELOAD_REFUSED, EventType.CONFIG_RELOADED)
    assert "loosens protections and gives no reason" in str(first["message"])
    assert second["reason"] == "a wider daily budget for the event"
    assert second["operator"] == "ops"


def test_a_file_that_does_not_load_is_refused_and_the_running_configuration_kept(
    running: TradingBot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = running
    write(tmp_path, {"guards": {"daily_loss": {"limit": "0.1"}}})
    reload(tmp_path)  # asked while the file was good
    operator_file(tmp_path, "dev").write_text("guards: {daily_loss: {limit: -5}}\n")
    bot.cycle()
    assert limit(bot, "daily_loss") == Decimal("0.2")
    ((kind, payload),) = outcomes(bot)
    assert kind == EventType.CONFIG_RELOAD_REFUSED
    assert "guards.daily_loss.limit" in str(payload["message"])
    assert reload(tmp_path) == 2  # the command checks the file before it asks
    assert "guards.daily_loss.limit" in capsys.readouterr().err
    assert len(outcomes(bot)) == 1


def test_a_change_that_needs_a_restart_is_refused_whole(running: TradingBot, tmp_path: Path) -> None:
    bot = running
    write(tmp_path, {"symbols": ["BTC-USD", "ETH-USD"], "guards": {"daily_loss": {"limit": "0.1"}}})
    reload(tmp_path)
    bot.cycle()
    assert limit(bot, "daily_loss") == Decimal("0.2")  # not even the tightening part
    ((kind, payload),) = outcomes(bot)
    assert kind == EventType.CONFIG_RELOAD_REFUSED
    assert "needs a restart" in str(payload["message"])
    assert "symbols" in str(payload["message"])


def test_sighup_reloads_and_a_loosening_without_a_reason_is_refused(running: TradingBot, tmp_path: Path) -> None:
    bot = running
    write(tmp_path, {"guards": {"daily_loss": {"limit": "0.15"}}})
    bot.request_reload()  # what the run command's SIGHUP handler does
    bot.cycle()
    assert limit(bot, "daily_loss") == Decimal("0.15")
    write(tmp_path, {"guards": {"daily_loss": {"limit": "0.3"}}})
    bot.request_reload()
    bot.cycle()
    assert limit(bot, "daily_loss") == Decimal("0.15")
    assert [kind for kind, _ in outcomes(bot)] == [EventType.CONFIG_RELOADED, EventType.CONFIG_RELOAD_REFUSED]


def test_the_command_waits_for_the_running_bots_answer(
    running: TradingBot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = running
    write(tmp_path, {"guards": {"daily_loss": {"limit": "0.12"}}})
    answering = threading.Thread(target=lambda: wait_for_request_then_cycle(bot))
    answering.start()
    code = main(["config", "reload", "--profile", "dev", "--operator", "ops", "--wait", "30"])
    answering.join(timeout=30)
    assert code == 0
    assert (
        "applied (configuration version 2): tightened: guards.daily_loss.limit: 0.2 -> 0.12" in capsys.readouterr().out
    )


def wait_for_request_then_cycle(bot: TradingBot) -> None:
    wait_for(
        lambda: any(True for _ in bot.events.read(types=[EventType.CONFIG_RELOAD_REQUESTED])), what="the reload request"
    )
    bot.cycle()


def test_requests_made_between_two_cycles_are_each_answered_in_order(running: TradingBot, tmp_path: Path) -> None:
    bot = running
    write(tmp_path, {"guards": {"daily_loss": {"limit": "0.4"}}})
    reload(tmp_path)  # no reason: refused
    reload(tmp_path, "--reason", "reviewed")
    bot.cycle()
    assert [kind for kind, _ in outcomes(bot)] == [EventType.CONFIG_RELOAD_REFUSED, EventType.CONFIG_RELOADED]
    assert limit(bot, "daily_loss") == Decimal("0.4")
    reload(tmp_path)  # the file as in force: nothing to change, nothing counted
    bot.cycle()
    kind, payload = outcomes(bot)[-1]
    assert (kind, payload["message"], payload["version"]) == (EventType.CONFIG_RELOADED, "no change", 2)
