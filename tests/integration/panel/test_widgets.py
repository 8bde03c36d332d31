"""The control panel's widgets without a browser: built, clicked inside a running asyncio loop (as a
kernel runs them), and the state that results, in the panel and in the profile's stores."""

import asyncio
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from gpttrader.config import load_config
from gpttrader.panel import ControlPanel, Phase
from gpttrader.store import Database, EventStore
from gpttrader.strategy import Bar, RSIMeanReversion, TargetPosition


async def until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Wait on the loop (never blocking it) for the panel to get somewhere."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def events(data: Path, profile: str, *types: str) -> list[dict[str, object]]:
    database = Database.for_state_dir(load_config(profile, overrides={"data_dir": data}, env={}).state_dir)
    try:
        return [e.payload for e in EventStore(database).read(types=list(types))]
    finally:
        database.close()


def _cycles(panel: ControlPanel) -> int:
    view = panel.session.view if panel.session is not None else None
    return 0 if view is None else view.counts.cycles


def test_a_first_run_explains_itself_and_only_start_is_offered(tmp_path: Path, clean_env: dict[str, str]) -> None:
    panel = ControlPanel(profile="dev", overrides={"data_dir": tmp_path}, operator="ops")
    assert "gt-first-run" in panel.summary.value
    assert "First run" in panel.summary.value
    assert not panel.start.disabled
    assert panel.pause.disabled
    assert panel.stop.disabled
    assert panel.kill.disabled
    assert panel.reduce_only.disabled
    assert panel.resume.disabled
    assert panel.live.layout.display == "none"
    panel.profile.value = "paper"
    assert list(panel.mode.options) == ["sandbox", "coinbase"]
    assert panel.pace.layout.display == "flex"
    panel.profile.value = "canary"
    assert list(panel.mode.options) == ["live"]
    assert panel.opt_in.layout.display == "flex"
    assert panel.pace.layout.display == "none"
    with pytest.raises(ValueError, match="profile must be one of dev, paper, canary, prod, got 'live'"):
        ControlPanel(profile="live")
    with pytest.raises(ValueError, match="mode for profile paper must be one of sandbox, coinbase, got 'live'"):
        ControlPanel(profile="paper", mode="live")


def test_start_pause_reduce_only_kill_and_stop_on_the_dev_bot(tmp_path: Path, clean_env: dict[str, str]) -> None:
    panel = ControlPanel(profile="dev", overrides={"data_dir": tmp_path}, operator="ops", pace_seconds=0.05)

    async def scenario() -> None:
        panel.start.click()
        await until(lambda: panel.session is not None and panel.session.phase is Phase.RUNNING, "running")
        assert panel.start.disabled
        assert panel.profile.disabled
        assert not panel.kill.disabled
        assert panel.resume.disabled  # active and not paused: nothing to resume
        assert "<b>running</b> profile dev, deterministic" in panel.status.value  # not "running running:"
        await until(lambda: 'gt-positions"><b>' in panel.positions.value, "a position")
        assert re.search(r"<td>[A-Z]+-USD</td>", panel.positions.value)
        await until(lambda: "<polyline" in panel.chart.value, "the equity line")  # grows with the cycles
        assert "gt-guards" in panel.guards.value
        panel.show_all_guards.value = True
        await until(lambda: "daily_loss" in panel.guards.value, "all the guards")

        panel.pause.click()
        await until(lambda: panel.session is not None and panel.session.phase is Phase.PAUSED, "paused")
        assert panel.pause.disabled
        assert "paused: the strategy" in panel.banner.value
        panel.resume.click()  # no reason typed: refused, nothing recorded
        await until(lambda: "a reason is needed to resume" in panel.status.value, "the refusal")
        assert panel.session is not None
        assert panel.session.phase is Phase.PAUSED
        panel.reason.value = "checked the fills"
        panel.resume.click()
        await until(lambda: panel.session is not None and panel.session.phase is Phase.RUNNING, "resumed")
        assert "resumed by ops: checked the fills" in panel.status.value

        panel.reduce_only.click()
        await until(lambda: "reduce_only" in panel.summary.value, "reduce-only shown")
        assert "reduce-only (set by ops: reduce-only from the control panel)" in panel.banner.value
        assert panel.reduce_only.disabled
        panel.reason.value = "the spread is back to normal"
        panel.resume.click()
        await until(lambda: '<b class="gt-state">active' in panel.summary.value, "active again")
        assert panel.banner.value == '<div class="gt-banner gt-ok"></div>'
        assert panel.reason.value == ""

        panel.kill.click()
        assert panel.confirm.layout.display == "flex"
        panel.kill_cancel.click()
        assert panel.confirm.layout.display == "none"
        panel.kill.click()
        panel.kill_confirm.click()
        await until(lambda: "halted" in panel.summary.value, "halted")
        assert "gt-banner gt-critical" in panel.banner.value
        assert "halted (set by ops: kill switch: kill switch from the control panel)" in panel.banner.value
        assert "execution health" not in panel.banner.value  # the breaker, said by its cause
        await until(lambda: "No positions" in panel.positions.value, "flat after the kill switch")
        assert panel.reduce_only.disabled
        assert not panel.resume.disabled  # with a reason, as `gpttrader risk set active --reason` does
        assert panel.session is not None
        assert "kill switch engaged" in panel.session.message

        panel.stop.click()
        await until(lambda: panel.session is not None and panel.session.phase is Phase.STOPPED, "stopped")
        assert not panel.start.disabled
        assert "stopped stopped" not in panel.status.value
        assert "orders placed" in panel.status.value

    asyncio.run(scenario())
    kinds = [p.get("operator") for p in events(tmp_path, "dev", "bot.paused", "bot.resumed")]
    assert kinds == ["ops", "ops"]
    changes = events(tmp_path, "dev", "risk.state_changed")
    assert [(c["to"], c.get("operator"), c["reason"]) for c in changes] == [
        ("reduce_only", "ops", "reduce-only from the control panel"),
        ("active", "ops", "the spread is back to normal"),
        ("halted", "ops", "kill switch: kill switch from the control panel"),
    ]
    assert events(tmp_path, "dev", "risk.kill_switch")[0]["operator"] == "ops"
    assert events(tmp_path, "dev", "bot.stopped")
    again = ControlPanel(profile="dev", overrides={"data_dir": tmp_path}, operator="ops")
    assert "gt-first-run" not in again.summary.value
    assert "halted" in again.summary.value  # the stored state, before any session


def test_the_sizing_box_shows_the_edge_estimates_regimes_and_fee_rates_sizing_reads(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    overrides = {"data_dir": tmp_path, "sizing": {"method": "kelly"}}
    panel = ControlPanel(profile="dev", overrides=overrides, operator="ops", pace_seconds=0.02)
    config = load_config("dev", overrides=overrides, env={})

    async def scenario() -> None:
        panel.start.click()
        await until(lambda: 'gt-edges"><b>' in panel.sizing.value, "an edge estimate", timeout=60)
        await until(lambda: 'gt-regimes"><b>' in panel.sizing.value, "a regime", timeout=60)
        panel.stop.click()
        await until(lambda: panel.session is not None and not panel.session.active, "stopped")

    asyncio.run(scenario())
    sizing = panel.sizing.value
    maker, taker = config.paper.maker_fee_rate, config.paper.taker_fee_rate
    assert f"sizing <b>kelly</b> &middot; fee tier profile dev: maker {maker:.2%}, taker {taker:.2%}" in sizing
    # Below kelly_min_trades the floor sizes, and the panel says so with the count
    floor = f"floor {config.sizing.kelly_floor_fraction:.2%} ("
    assert re.search(
        rf"<td>baseline</td><td>[A-Z]+-USD</td><td>(\d+)</td>.*?{re.escape(floor)}\1 of "
        rf"{config.sizing.kelly_min_trades} trips\)",
        sizing,
    )
    regimes = re.findall(r"<td>([A-Z]+-USD)</td><td>([a-z_]+)</td>", sizing.split("gt-regimes")[1])
    assert regimes
    assert {r for _, r in regimes} <= {f"{t}_{v}" for t in ("bull", "sideways", "bear") for v in ("quiet", "volatile")}


def test_a_session_runs_on_the_bar_size_chosen_in_the_panel(tmp_path: Path, clean_env: dict[str, str]) -> None:
    """Five-minute bars on the dev broker, whose one-minute price path makes them as an exchange would."""
    panel = ControlPanel(profile="dev", overrides={"data_dir": tmp_path}, operator="ops", pace_seconds=0.0)
    assert panel.granularity.value == ""  # the profile's, until chosen
    panel.granularity.value = "FIVE_MINUTE"

    async def scenario() -> None:
        panel.start.click()
        await until(lambda: _cycles(panel) >= 40, "forty cycles", timeout=60)
        assert panel.granularity.disabled
        panel.stop.click()
        await until(lambda: panel.session is not None and not panel.session.active, "stopped")

    asyncio.run(scenario())
    (started,) = events(tmp_path, "dev", "bot.started")
    assert started["granularity"] == "FIVE_MINUTE"
    decided = {str(d["bar_time"]) for d in events(tmp_path, "dev", "strategy.decision")}
    assert decided
    assert all(datetime.fromisoformat(t).minute % 5 == 0 for t in decided)


def test_a_live_profile_without_credentials_is_refused_with_the_fix(tmp_path: Path, clean_env: dict[str, str]) -> None:
    panel = ControlPanel(profile="canary", overrides={"data_dir": tmp_path}, operator="ops")

    async def scenario() -> None:
        panel.opt_in.value = True
        panel.start.click()
        await until(lambda: panel.session is not None and not panel.session.active, "the refusal")

    asyncio.run(scenario())
    assert panel.session is not None
    assert panel.session.phase is Phase.REFUSED
    assert "[FAIL] credentials" in panel.status.value
    assert "fix: set COINBASE_API_KEY" in panel.status.value
    assert not panel.start.disabled
    assert panel.kill.disabled


def test_the_exporter_serves_the_panels_registry(tmp_path: Path, clean_env: dict[str, str]) -> None:
    panel = ControlPanel(profile="dev", overrides={"data_dir": tmp_path}, operator="ops", pace_seconds=0.02)

    async def scenario() -> str:
        panel.serve.click()
        assert panel.exporter is not None
        panel.start.click()
        await until(lambda: panel.session is not None and _cycles(panel) >= 3, "three cycles")
        assert panel.exporter is not None
        url = f"http://127.0.0.1:{panel.exporter.port}/metrics"
        text = await asyncio.get_running_loop().run_in_executor(None, lambda: requests.get(url, timeout=5).text)
        panel.stop.click()
        await until(lambda: panel.session is not None and not panel.session.active, "stopped")
        panel.serve.click()
        return text

    text = asyncio.run(scenario())
    assert 'gpttrader_cycles_total{profile="dev"}' in text
    assert panel.exporter is None
    assert panel.metrics_link.value == ""


def test_an_unreachable_exchange_shows_connecting_then_the_error(
    tmp_path: Path, clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as closed:  # a port nobody listens on: the exchange refuses every connection
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("COINBASE_SANDBOX_URL", f"https://127.0.0.1:{port}")
    panel = ControlPanel(profile="paper", mode="coinbase", overrides={"data_dir": tmp_path}, operator="ops")
    seen: list[str] = []

    async def scenario() -> None:
        panel.start.click()
        await until(lambda: panel.session is not None, "the session")
        while panel.session is not None and panel.session.active:
            seen.append(panel.status.value)
            await asyncio.sleep(0.01)

    asyncio.run(scenario())
    assert any("gt-phase-connecting" in status for status in seen)
    assert panel.session is not None
    assert panel.session.phase is Phase.ERROR
    assert "could not start" in panel.status.value
    assert "gt-phase-error" in panel.status.value
    assert not panel.start.disabled  # the operator can fix the cause and start again


@dataclass(frozen=True)
class FailsLive:
    """A user's strategy that holds half the equity, with a bug that shows from `fails_at` on."""

    fails_at: datetime
    name: str = "fails_live"
    warmup: int = 1

    def new_state(self) -> None:
        return None

    def on_bar(self, bar: Bar, state: None) -> TargetPosition | None:
        if bar.time >= self.fails_at:
            raise ZeroDivisionError("the strategy divided by a zero volume")
        return TargetPosition(bar.product_id, 0.5, 1.0, "hold half")


def test_a_session_that_fails_ends_with_the_kill_switch(tmp_path: Path, clean_env: dict[str, str]) -> None:
    """A strategy that raises on a live bar: the session ends in the error state, saying why, after the
    kill switch cancelled, flattened and halted (nothing watches the positions once the loop is gone)."""
    fails_at = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=3)  # a few live bars in
    panel = ControlPanel(
        profile="dev",
        overrides={"data_dir": tmp_path, "symbols": ["BTC-USD"]},
        operator="ops",
        pace_seconds=0.02,
        strategy=FailsLive(fails_at),
    )

    async def scenario() -> None:
        panel.start.click()
        await until(lambda: panel.session is not None and panel.session.phase is not Phase.IDLE, "the start")
        await until(lambda: panel.session is not None and not panel.session.active, "the failure")

    asyncio.run(scenario())
    assert panel.session is not None
    assert panel.session.phase is Phase.ERROR
    assert "failed: ZeroDivisionError: the strategy divided by a zero volume" in panel.session.message
    assert "kill switch engaged (flattened dev-BTC-USD-kill" in panel.session.message  # the half it held
    assert "gt-phase-error" in panel.status.value
    assert not panel.start.disabled
    kill = events(tmp_path, "dev", "risk.kill_switch")
    assert [k["operator"] for k in kill] == ["control panel"]
    assert events(tmp_path, "dev", "risk.state_changed")[-1]["to"] == "halted"
    assert events(tmp_path, "dev", "bot.stopped")


@pytest.mark.parametrize(
    "strategy", ["gpttrader.strategy.builtin:RSIMeanReversion", RSIMeanReversion], ids=["module:Class", "class"]
)
def test_the_panel_takes_a_strategy_as_a_class_or_a_module_path(
    tmp_path: Path, clean_env: dict[str, str], strategy: object
) -> None:
    """A researcher's own strategy goes to the panel as it goes everywhere else: the object, its class (built
    with its defaults), or "module:Class"."""
    panel = ControlPanel(
        profile="dev",
        overrides={"data_dir": tmp_path, "symbols": ["BTC-USD"]},
        operator="ops",
        pace_seconds=0.05,
        strategy=strategy,  # type: ignore[arg-type]
    )

    async def scenario() -> None:
        panel.start.click()
        await until(lambda: panel.session is not None and panel.session.phase is Phase.RUNNING, "running")
        panel.stop.click()
        await until(lambda: panel.session is not None and not panel.session.active, "stopped")

    asyncio.run(scenario())
    (started,) = events(tmp_path, "dev", "bot.started")
    assert started["strategy"] == "rsi_reversion"  # today: a class or a path is not a strategy: the start fails
