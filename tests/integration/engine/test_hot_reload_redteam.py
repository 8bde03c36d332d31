"""Red-team probes of hot reload (engine.reload, config.changes, app.commands.config).

Each of these failed on the code before commit that fixed them (each a bug):
  test_a_non_utf8_operator_file_is_refused_and_the_bot_keeps_running
  test_a_deeply_nested_operator_file_is_refused_and_the_bot_keeps_running
  test_the_reload_command_refuses_a_non_utf8_file_without_crashing
  test_a_blank_reason_does_not_license_a_loosening
  test_a_guard_made_more_severe_while_breached_acts_at_once
  test_a_secret_pasted_into_the_wrong_key_never_reaches_the_reload_output
PASSING, kept as regression tests:
  test_a_mixed_change_without_reason_is_refused_whole
  test_a_looser_limits_file_needs_a_reason
  test_a_loosening_without_reason_is_refused (parametrized)
"""

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
from gpttrader.risk.state import TradingState

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
BASE = {"guards": {"daily_loss": {"limit": "0.2"}}}
LATIN1 = "symbols: [BTC-USD]\nguards: {daily_loss: {message: 'caf\u00e9'}}\n".encode("latin-1")  # not UTF-8
WEBHOOK = "https://hooks.slack.com/services/T0000SECRET/B0000SECRET/abcdefghijklmnopqrstuvwx"


def write(data: Path, settings: dict[str, object]) -> None:
    path = operator_file(data, "dev")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"symbols": ["BTC-USD"], **settings}))


def reload(*args: str) -> int:
    return main(["config", "reload", "--profile", "dev", "--operator", "ops", "--wait", "0", *args])


def outcomes(bot: TradingBot) -> list[tuple[str, dict[str, object]]]:
    return [
        (e.type, e.payload) for e in bot.events.read(types=[EventType.CONFIG_RELOADED, EventType.CONFIG_RELOAD_REFUSED])
    ]


def start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: dict[str, object]) -> TradingBot:
    monkeypatch.setenv("GPTTRADER_DATA_DIR", str(tmp_path))
    write(tmp_path, settings)
    bot = ApplicationContainer(load_config("dev"), clock=FastClock(START)).create_bot()
    bot.bootstrap()
    bot.cycle()
    return bot


def test_a_non_utf8_operator_file_is_refused_and_the_bot_keeps_running(
    tmp_path: Path, clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An invalid (non-UTF-8) file is refused with an event and the running configuration kept."""
    bot = start(tmp_path, monkeypatch, BASE)
    write(tmp_path, {"guards": {"daily_loss": {"limit": "0.1"}}})
    reload()  # asked while the file was good
    operator_file(tmp_path, "dev").write_bytes(LATIN1)
    bot.cycle()  # must not raise: with on_cycle_error halt, `gpttrader run` would kill-switch and flatten
    assert bot.config.guards.daily_loss.limit == Decimal("0.2")
    assert [kind for kind, _ in outcomes(bot)] == [EventType.CONFIG_RELOAD_REFUSED]


def test_a_deeply_nested_operator_file_is_refused_and_the_bot_keeps_running(
    tmp_path: Path, clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An invalid (absurdly nested) file is refused with an event and the running configuration kept."""
    bot = start(tmp_path, monkeypatch, BASE)
    operator_file(tmp_path, "dev").write_text("symbols: [BTC-USD]\nx: " + "[" * 5000 + "]" * 5000 + "\n")
    bot.request_reload()
    bot.cycle()
    assert bot.config.guards.daily_loss.limit == Decimal("0.2")
    assert [kind for kind, _ in outcomes(bot)] == [EventType.CONFIG_RELOAD_REFUSED]


def test_the_reload_command_refuses_a_non_utf8_file_without_crashing(
    tmp_path: Path, clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`config reload` refuses an invalid (non-UTF-8) file with exit 2, as it does any file that does not load."""
    start(tmp_path, monkeypatch, BASE)
    operator_file(tmp_path, "dev").write_bytes(LATIN1)
    assert reload() == 2


def test_a_blank_reason_does_not_license_a_loosening(
    tmp_path: Path, clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loosening needs an operator's reason: whitespace is not one, from the command (refused there, nothing
    asked) or in a request recorded some other way (refused by the bot)."""
    bot = start(tmp_path, monkeypatch, BASE)
    write(tmp_path, {"guards": {"daily_loss": {"limit": "1"}}})
    assert reload("--reason", "   ") == 2
    bot.cycle()
    assert outcomes(bot) == []
    bot.events.append(EventType.CONFIG_RELOAD_REQUESTED, {"operator": "ops", "reason": "   "})
    bot.cycle()
    assert bot.config.guards.daily_loss.limit == Decimal("0.2")
    assert [kind for kind, _ in outcomes(bot)] == [EventType.CONFIG_RELOAD_REFUSED]


def test_a_guard_made_more_severe_while_breached_acts_at_once(
    tmp_path: Path, clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tightening (a breached guard's action warn -> halt) applies at once."""
    # consecutive_losses (0, read every cycle) >= 0: the guard is breached from the first cycle, action warn.
    bot = start(tmp_path, monkeypatch, {"guards": {"consecutive_losses": {"limit": 0, "action": "warn"}}})
    breaches = [e.payload["guard"] for e in bot.events.read(types=[EventType.RISK_GUARD_BREACHED])]
    assert breaches == ["consecutive_losses"]
    assert bot.risk.state is TradingState.ACTIVE
    write(tmp_path, {"guards": {"consecutive_losses": {"limit": 0, "action": "halt"}}})
    bot.request_reload()
    bot.cycle()
    ((kind, payload),) = outcomes(bot)
    assert (kind, payload["message"]) == (
        EventType.CONFIG_RELOADED,
        "tightened: guards.consecutive_losses.action: warn -> halt",
    )
    bot.cycle()
    assert bot.risk.state is TradingState.HALTED  # a bot started with this file halts on its first cycle


def test_a_secret_pasted_into_the_wrong_key_never_reaches_the_reload_output(
    tmp_path: Path, clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Secrets never appear in any event or output: the env webhook URL pasted under webhook_format by mistake."""
    monkeypatch.setenv("GPTTRADER_ALERT_WEBHOOK_URL", WEBHOOK)
    bot = start(tmp_path, monkeypatch, BASE)
    write(tmp_path, {**BASE, "alerts": {"webhook_format": WEBHOOK}})
    capsys.readouterr()
    bot.request_reload()
    bot.cycle()
    stored = " ".join(str(payload) for _, payload in outcomes(bot))
    assert stored
    assert WEBHOOK not in stored
    assert reload() == 2
    out = capsys.readouterr()
    assert WEBHOOK not in out.out + out.err  # the command prints the loader's error unredacted


# --- regression tests (pass on the current code) ---------------------------------------------------------


def test_a_mixed_change_without_reason_is_refused_whole(
    tmp_path: Path, clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One tighten + one loosen without a reason: refused whole, nothing partly applied."""
    bot = start(tmp_path, monkeypatch, BASE)
    write(tmp_path, {"guards": {"daily_loss": {"limit": "0.1"}}, "order_limits": {"per_minute": 50}})
    bot.request_reload()
    bot.cycle()
    assert bot.config.guards.daily_loss.limit == Decimal("0.2")
    assert bot.risk.limits.order_rate.per_minute == 10
    assert [kind for kind, _ in outcomes(bot)] == [EventType.CONFIG_RELOAD_REFUSED]


def test_a_looser_limits_file_needs_a_reason(
    tmp_path: Path, clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A per-symbol notional raised in the risk limits file is a loosening: refused without a reason."""
    limits = tmp_path / "limits.yaml"
    limits.write_text(yaml.safe_dump({"max_leverage": 1, "symbols": {"BTC-USD": {"max_notional": 1000}}}))
    bot = start(tmp_path, monkeypatch, {"risk": {"limits_file": str(limits)}})
    limits.write_text(yaml.safe_dump({"max_leverage": 1, "symbols": {"BTC-USD": {"max_notional": 100000}}}))
    bot.request_reload()
    bot.cycle()
    assert bot.risk.limits.max_notional["BTC-USD"] == 1000
    assert [kind for kind, _ in outcomes(bot)] == [EventType.CONFIG_RELOAD_REFUSED]


@pytest.mark.parametrize(
    "settings",
    [
        {"order_limits": {"min_interval_seconds": 0}},
        {"guards": {"daily_loss": {"limit": "0.2", "action": "warn"}}},
        {"guards": {"daily_loss": {"limit": "0.2", "warn_at": 0.95}}},
        {"guards": {"daily_loss": {"limit": "0.2", "comparison": "gt"}}},
        {"guards": {"liquidation_buffer": {"limit": 0.10}}},
        {"sizing": {"kelly_floor_fraction": 0.5}},
        {"risk": {"max_position_fraction": 0.5}},
        {"execution": {"on_cycle_error": "continue"}},
        {"trading_window": None},
        {"risk": {"max_position_size": {}}},
    ],
)
def test_a_loosening_without_reason_is_refused(
    settings: dict[str, object], tmp_path: Path, clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loosening (or unclassified) change without a reason never applies."""
    base = {
        "guards": {"daily_loss": {"limit": "0.2", "warn_at": 0.5}},
        "order_limits": {"min_interval_seconds": 5},
        "risk": {"max_position_size": {"BTC-USD": 1}},
        "trading_window": {"start": "00:00", "end": "23:59"},
    }
    bot = start(tmp_path, monkeypatch, base)
    before = bot.config
    write(tmp_path, {**base, **settings})
    bot.request_reload()
    bot.cycle()
    assert bot.config == before
    assert [kind for kind, _ in outcomes(bot)] == [EventType.CONFIG_RELOAD_REFUSED]
