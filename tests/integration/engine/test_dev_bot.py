"""The dev bot end to end on real SQLite files: the smoke run, determinism, restart and reconciliation,
and the kill switch."""

import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from gpttrader.domain import Fill, Liquidity, OrderRequest, OrderStatus, OrderType, Side
from gpttrader.domain.events import EventType
from gpttrader.risk import TradingState
from gpttrader.store.integrity import set_aside
from gpttrader.store.venue import VENUE_FILE
from gpttrader.strategy import Bar, TargetPosition
from tests.integration.engine.dev_sessions import START, container
from tests.integration.engine.strategies import BuyBtcEveryBar, BuyOnce


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gpttrader.app.cli", *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_the_dev_smoke_run_and_its_restart(clean_env: dict[str, str]) -> None:
    for _ in range(2):
        result = run_cli("run", "--profile", "dev", "--dev-fast", env=clean_env)
        assert result.returncode == 0, result.stderr
        assert "profile dev: 30 cycles, 300 bars" in result.stdout
        assert "trading state" in result.stdout
    state = Path(clean_env["GPTTRADER_DATA_DIR"]) / "state" / "dev"
    metrics = json.loads((state / "metrics.json").read_text())
    assert metrics["cycle"]["cycles"] == 30
    assert {"success_rate", "latency_ms_p50", "latency_ms_p95", "latency_ms_p99", "retries"} <= set(
        metrics["execution"]
    )
    shown = run_cli("events", "tail", "--profile", "dev", "-n", "10000", "--json", env=clean_env)
    types = [json.loads(line)["type"] for line in shown.stdout.splitlines()]
    assert types.count("bot.started") == 2
    assert types.count("bot.stopped") == 2
    assert types.count("reconcile.done") >= 2


def stream(data: Path) -> list[tuple[str, str]]:
    with container(data) as c:
        bot = c.create_bot()
        bot.bootstrap()
        bot.run(max_cycles=90)
        bot.shutdown()
        return [
            (e.type, json.dumps({k: v for k, v in e.payload.items() if k not in ("reconcile",)}, sort_keys=True))
            for e in c.event_store.read()
        ]


def test_same_inputs_give_the_same_event_stream(tmp_path: Path) -> None:
    first, second = stream(tmp_path / "one"), stream(tmp_path / "two")
    assert first == second
    assert any(kind == "order.fill" for kind, _ in first), "the run should trade"


def test_a_restart_reconciles_pending_and_unknown_orders(tmp_path: Path) -> None:
    with container(tmp_path) as c:
        bot = c.create_bot(BuyOnce())
        bot.bootstrap()
        bot.run(max_cycles=5)
        bot.shutdown()
        held = bot.execution.portfolio.size("BTC-USD")
        assert held > 0
        # A crash between writing an intent and sending it: PENDING in the store, unknown to the exchange.
        c.orders_store.add(OrderRequest("lost-1", "BTC-USD", Side.BUY, OrderType.MARKET, Decimal("0.0001")))
        # An order of this profile (its prefix) on the exchange that the store does not know.
        stranger = c.broker.place_order(
            OrderRequest("dev-by-hand-1", "ETH-USD", Side.BUY, OrderType.LIMIT, Decimal("0.01"), Decimal(100))
        )
    with container(tmp_path, START + timedelta(minutes=10)) as c:
        bot = c.create_bot(BuyOnce())
        report = bot.bootstrap()
        assert report.ok
        assert report.unresolved == ["lost-1"]
        assert report.cancelled == ["dev-by-hand-1"]
        lost = c.orders_store.get("lost-1")
        assert lost is not None
        assert lost.status is OrderStatus.UNKNOWN  # the exchange may list it late: looked up, not dropped
        assert c.broker.get_order(stranger.order_id or "").status is OrderStatus.CANCELLED
        assert bot.execution.portfolio.size("BTC-USD") == held  # rebuilt from the stored fills
        assert c.broker.list_orders(open_only=True) == []
        # Written on another clock than the bot's, its age is unknown: never sent late. Still not listed once
        # execution.unresolved_order_seconds (300) have passed, it was never placed.
        bot.run(max_cycles=6)
        lost = c.orders_store.get("lost-1")
        assert lost is not None
        assert (lost.status, lost.reject_reason) == (OrderStatus.FAILED, "NOT_FOUND")
        assert c.broker.list_orders(open_only=True) == []
        assert "lost-1" not in {o.client_order_id for o in c.broker.list_orders("BTC-USD")}


def test_books_that_cannot_explain_the_position_halt_trading(tmp_path: Path) -> None:
    with container(tmp_path) as c:
        bot = c.create_bot(BuyOnce())
        bot.bootstrap()
        bot.run(max_cycles=5)
        bot.shutdown()
    set_aside(tmp_path / "state" / "dev", VENUE_FILE)  # the exchange's books are gone: fresh cash, no BTC
    with container(tmp_path, START + timedelta(minutes=10)) as c:
        bot = c.create_bot(BuyOnce())
        report = bot.bootstrap()
        assert not report.ok
        assert "BTC-USD: the account holds 0 BTC" in report.mismatches[0]
        assert f"from the bot's fills): less by {bot.execution.portfolio.size('BTC-USD')}" in report.mismatches[0]
        assert c.risk_manager.state is TradingState.HALTED
        bot.run(max_cycles=5)
        assert bot.metrics.orders == 0


def test_the_kill_switch_cancels_flattens_and_halts(tmp_path: Path) -> None:
    with container(tmp_path) as c:
        bot = c.create_bot(BuyOnce())
        bot.bootstrap()
        bot.run(max_cycles=5)
        assert bot.execution.portfolio.size("BTC-USD") > 0
        report = bot.kill(operator="ops", reason="test")
        kill_id = c.event_store.tail(1, types=[EventType.RISK_KILL_SWITCH])[0].id
        assert report.flattened == [f"dev-BTC-USD-kill{kill_id}-0"]  # named by the kill, so a retry reuses the name
        assert report.complete
        assert report.open_orders == []
        assert report.positions == {}
        assert bot.execution.portfolio.size("BTC-USD") == 0
        assert c.risk_manager.state is TradingState.HALTED
        kinds = [e.type for e in c.event_store.read()]
        assert kinds[-1] == "kill_switch.done"
        assert "risk.kill_switch" in kinds
        bot.shutdown()
    with container(tmp_path, START + timedelta(minutes=10)) as c:  # halted survives the restart
        bot = c.create_bot(BuyBtcEveryBar())
        bot.bootstrap()
        bot.run(max_cycles=5)
        assert c.risk_manager.state is TradingState.HALTED
        rejected = [e.payload["reason"] for e in c.event_store.read(types=[EventType.RISK_ORDER_REJECTED])]
        assert len(rejected) == 5
        assert set(rejected) == {"halted"}
        assert bot.metrics.orders == 0


def test_unknown_orders_are_adopted_when_the_policy_says_so(tmp_path: Path) -> None:
    with container(tmp_path, execution={"unknown_orders": "adopt"}) as c:
        bot = c.create_bot(BuyOnce())
        bot.bootstrap()  # a store that has met this account: an order placed by hand later is the policy's
        stranger = c.broker.place_order(
            OrderRequest("dev-by-hand-2", "ETH-USD", Side.BUY, OrderType.LIMIT, Decimal("0.01"), Decimal(100))
        )
        report = bot.reconcile()
        assert report.adopted == ["dev-by-hand-2"]
        adopted = c.orders_store.get("dev-by-hand-2")
        assert adopted is not None
        assert (adopted.status, adopted.order_id) == (OrderStatus.OPEN, stranger.order_id)
        assert c.broker.get_order(stranger.order_id or "").status is OrderStatus.OPEN


def test_the_kill_command_halts_a_profile_until_an_operator_resumes_it(clean_env: dict[str, str]) -> None:
    assert run_cli("run", "--profile", "dev", "--dev-fast", "--cycles", "5", env=clean_env).returncode == 0
    killed = run_cli("kill", "--profile", "dev", "--reason", "drill", "--operator", "ops", env=clean_env)
    assert killed.returncode == 0, killed.stderr
    assert "profile dev: halted by ops" in killed.stdout
    again = run_cli("run", "--profile", "dev", "--dev-fast", "--cycles", "5", env=clean_env)
    assert "trading state halted" in again.stdout
    resumed = run_cli("risk", "set", "active", "--profile", "dev", "--reason", "drill over", env=clean_env)
    assert resumed.returncode == 0
    assert "halted -> active" in resumed.stdout


@dataclass(frozen=True)
class AlwaysLong:
    """Wants to be long every bar: a target that never changes."""

    name: str = "always_long"
    warmup: int = 1

    def new_state(self) -> None:
        return None

    def on_bar(self, bar: Bar, state: None) -> TargetPosition:
        return TargetPosition(bar.product_id, 1.0 if bar.product_id == "BTC-USD" else 0.0, 1.0, "long")


def test_an_unchanged_target_is_acted_on_once(tmp_path: Path) -> None:
    with container(tmp_path) as c:
        bot = c.create_bot(AlwaysLong())
        bot.bootstrap()
        bot.run(max_cycles=20)
        assert bot.metrics.orders == 1  # not one order a bar chasing the equity's drift
        assert bot.execution.portfolio.size("BTC-USD") > 0


def test_a_halted_bot_raises_its_alerts_to_the_event_store(tmp_path: Path) -> None:
    with container(tmp_path) as c:
        bot = c.create_bot(BuyOnce())
        bot.bootstrap()
        bot.run(max_cycles=3)
        assert [a.rule for a in bot.alerts.history] == []
        bot.kill(operator="ops", reason="drill")
        bot.run(max_cycles=6)
        raised = [e.payload for e in c.event_store.read(types=[EventType.ALERT])]
        assert [a["rule"] for a in raised] == ["circuit_breaker_open"]  # once: the cooldown holds the repeats
        assert raised[0]["severity"] == "critical"
        assert "gpttrader risk set active" in raised[0]["hint"]
        assert "circuit_breaker_open" in bot.alerts.active


def test_a_fill_the_books_cannot_explain_halts_without_crashing(tmp_path: Path) -> None:
    with container(tmp_path) as c:
        bot = c.create_bot(BuyOnce())
        bot.bootstrap()
        bot.run(max_cycles=5)
        held = bot.execution.portfolio.size("BTC-USD")
        assert held > 0
        # A sell of twice the holding, as if an order the bot never knew of had filled.
        stray = OrderRequest("stray-1", "BTC-USD", Side.SELL, OrderType.MARKET, held * 2)
        c.orders_store.add(stray)
        c.orders_store.add_fill(
            Fill(
                "t-stray",
                "stray-1",
                "BTC-USD",
                Side.SELL,
                Decimal(90_000),
                held * 2,
                Decimal(0),
                Liquidity.TAKER,
                START,
            )
        )
        bot.run(max_cycles=7)  # never "a spot position cannot be short"
        assert c.risk_manager.state is TradingState.HALTED
        assert bot.execution.portfolio.size("BTC-USD") == 0
        unexplained = [e.payload for e in c.event_store.read(types=[EventType.BOOKS_UNEXPLAINED_FILL])]
        assert [u["trade_id"] for u in unexplained] == ["t-stray"]
        assert Decimal(unexplained[0]["excess"]) == held
        assert "unexplained_fill" in {e.payload["rule"] for e in c.event_store.read(types=[EventType.ALERT])}
        bot.shutdown()
    with container(tmp_path, START + timedelta(minutes=10)) as c:  # a restart books the same without a crash
        bot = c.create_bot(BuyOnce())
        bot.bootstrap()
        assert bot.execution.portfolio.size("BTC-USD") == 0
        assert bot.kill(operator="ops", reason="after the stray fill").complete
        bot.shutdown()


def test_an_order_final_before_all_its_fills_are_listed_waits_for_them(tmp_path: Path) -> None:
    with container(tmp_path) as c:
        fills, hidden = c.broker.fills, []

        def lagging(*, order_id: str | None = None, product_id: str | None = None) -> list[Fill]:
            listed = fills(order_id=order_id, product_id=product_id)
            if order_id is not None and not hidden:  # the first read of an order's fills misses the last one
                hidden.append(listed[-1])
                return listed[:-1]
            return listed

        c.broker.fills = lagging  # type: ignore[method-assign]
        bot = c.create_bot(BuyOnce())
        bot.bootstrap()
        bot.run(max_cycles=5)
        assert hidden, "the strategy never bought"
        order = c.orders_store.get(hidden[0].client_order_id)
        assert order is not None
        assert order.status is OrderStatus.FILLED
        assert order.filled_size == c.broker.get_order(order.order_id or "").filled_size
        assert hidden[0].trade_id in {f.trade_id for f in c.orders_store.fills()}
        assert bot.execution.portfolio.size("BTC-USD") == order.filled_size
        bot.shutdown()
