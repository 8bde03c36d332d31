"""Orders of unknown fate and the kill switch under faults, against the sandbox through the official SDK.

The sandbox's `error_after` fault does the work and then answers 503: the order exists at the exchange,
and the bot was never told. The bot must treat such an order as UNKNOWN (never "not placed"), count it as
exposure, send nothing more for its product until it has found the order by its client order id, and the
kill switch must halt first, then flatten exactly once whatever the exchange answers.
"""

import subprocess
import sys
import threading
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.domain import OrderRequest, OrderStatus
from gpttrader.domain.events import EventType
from gpttrader.risk import TradingState
from gpttrader.sandbox import RunningSandbox
from tests.integration.engine.sessions import API, CAP, canary, cli, exchange_fills, holding, kill_env, peak_position
from tests.integration.engine.strategies import BuyEveryBar
from tests.integration.sandbox.conftest import admin_call, inject, sdk_client
from tests.waiting import wait_for


def test_lost_answers_never_double_an_order_or_break_the_cap(market: RunningSandbox, tmp_path: Path) -> None:
    with ApplicationContainer(canary(market, tmp_path), clock=SandboxClock(market)) as container:
        bot = container.create_bot(BuyEveryBar())
        bot.bootstrap()
        # Every order post from now on is done by the exchange, then answered 503 (after the adapter's retries).
        inject(market, kind="error_after", status=503, count=1000, method="POST", path_prefix=f"{API}/orders")
        bot.run(max_cycles=8)
        admin_call(market, "DELETE", "faults")
        bot.shutdown()
        store = container.orders_store
        unknown = [e.payload["client_order_id"] for e in container.event_store.read(types=[EventType.ORDER_UNKNOWN])]
        theirs = sdk_client(market).list_orders().orders
        peak, final = peak_position(market)
        assert peak <= CAP, f"the exchange held {peak} BTC against a cap of {CAP}"
        assert max(Counter(o.client_order_id for o in theirs).values()) == 1
        assert unknown, "no send ended without an answer: the fault did not bite"
        assert final == bot.execution.portfolio.size("BTC-USD")  # the bot knows what it holds
        for order in theirs:  # every order the exchange made is known, with its final state, none left unknown
            stored = store.get(order.client_order_id)
            assert stored is not None, order.client_order_id
            assert stored.status is OrderStatus.FILLED, order.client_order_id
        assert {f.trade_id for f in exchange_fills(market)} == {f.trade_id for f in store.fills()}


def test_the_kill_switch_halts_first_when_the_exchange_is_down(market: RunningSandbox, tmp_path: Path) -> None:
    resting = holding(market, tmp_path, size="0.002", resting=True)
    env = kill_env(market, tmp_path)
    inject(market, kind="http_error", status=503, count=1000, path_prefix=API)
    down = cli(env, "kill", "--profile", "canary", "--reason", "outage", "--operator", "ops", "--deadline", "2")
    assert down.returncode == 3, down.stderr[-2000:]
    assert "Traceback" not in down.stderr
    assert "the exchange could not be read" in down.stderr
    assert "to retry: gpttrader kill --profile canary" in down.stderr
    shown = cli(env, "risk", "show", "--profile", "canary")
    assert "halted" in shown.stdout, shown.stdout  # recorded before any exchange call
    admin_call(market, "DELETE", "faults")
    again = cli(env, "kill", "--profile", "canary", "--reason", "retry", "--operator", "ops", "--deadline", "20")
    assert again.returncode == 0, again.stderr[-2000:]
    assert resting is not None
    assert resting in again.stdout
    assert not sdk_client(market).list_orders(order_status=["OPEN"]).orders
    assert peak_position(market)[1] == 0


def test_a_flatten_whose_answer_is_lost_is_found_and_never_sent_twice(market: RunningSandbox, tmp_path: Path) -> None:
    holding(market, tmp_path, size="0.002")
    env = kill_env(market, tmp_path)
    inject(market, kind="error_after", status=503, count=1000, method="POST", path_prefix=f"{API}/orders")
    first = cli(env, "kill", "--profile", "canary", "--reason", "lost answers", "--operator", "ops", "--deadline", "30")
    assert first.returncode == 0, first.stderr[-2000:]
    second = cli(env, "kill", "--profile", "canary", "--reason", "once more", "--operator", "ops", "--deadline", "30")
    assert second.returncode == 0, second.stderr[-2000:]
    assert "flattened: none" in second.stdout
    admin_call(market, "DELETE", "faults")
    sold = sum(Decimal(f.size) for f in exchange_fills(market) if f.side == "SELL")
    assert sold == Decimal("0.002")
    orders = sdk_client(market).list_orders().orders
    assert max(Counter(o.client_order_id for o in orders).values()) == 1
    with ApplicationContainer(canary(market, tmp_path)) as container:
        assert container.risk_manager.state is TradingState.HALTED


def test_a_running_bot_obeys_a_kill_from_another_process(market: RunningSandbox, tmp_path: Path) -> None:
    with ApplicationContainer(canary(market, tmp_path), clock=SandboxClock(market)) as container:
        container.claim("the test's bot")  # the kill switch needs no lock: it works while a bot holds the profile
        bot = container.create_bot(BuyEveryBar())
        bot.bootstrap()
        bot.run(max_cycles=2)
        assert bot.execution.portfolio.size("BTC-USD") > 0
        killed = cli(kill_env(market, tmp_path), "kill", "--profile", "canary", "--operator", "ops", "--deadline", "20")
        assert killed.returncode == 0, killed.stderr[-2000:]
        sent = bot.metrics.orders
        bot.run(max_cycles=5)  # three more cycles, each deciding to buy
        assert container.risk_manager.state is TradingState.HALTED
        assert bot.metrics.orders == sent
        reasons = {e.payload["reason"] for e in container.event_store.read(types=[EventType.RISK_ORDER_REJECTED])}
        assert "halted" in reasons
        assert bot.execution.portfolio.size("BTC-USD") == 0  # the kill's flatten, read from the shared store
        bot.shutdown()
    assert peak_position(market)[1] == 0


def test_an_order_that_never_reached_the_exchange_is_sent_again_under_its_own_id(
    market: RunningSandbox, tmp_path: Path
) -> None:
    with ApplicationContainer(canary(market, tmp_path), clock=SandboxClock(market)) as container:
        bot = container.create_bot(BuyEveryBar())
        bot.bootstrap()
        # Four 503s without the work: the adapter's retries are spent, and the exchange never saw the order.
        inject(market, kind="http_error", status=503, count=4, method="POST", path_prefix=f"{API}/orders")
        bot.run(max_cycles=1)
        unknown = [e.payload["client_order_id"] for e in container.event_store.read(types=[EventType.ORDER_UNKNOWN])]
        resent = [e.payload["client_order_id"] for e in container.event_store.read(types=[EventType.ORDER_RESENT])]
        assert unknown
        assert resent == unknown[:1]
        first = container.orders_store.get(unknown[0])
        assert first is not None
        assert first.status is OrderStatus.FILLED
        bot.shutdown()
    assert [o.client_order_id for o in sdk_client(market).list_orders().orders].count(unknown[0]) == 1


def test_an_order_the_exchange_never_lists_is_given_up_once_too_old_to_place(
    market: RunningSandbox, tmp_path: Path
) -> None:
    config = canary(market, tmp_path, execution={"unresolved_order_seconds": 120})
    with ApplicationContainer(config, clock=SandboxClock(market)) as container:
        bot = container.create_bot(BuyEveryBar())
        bot.bootstrap()
        # Every post fails without the work, the resends too: the look-ups answer, and never list the order.
        inject(market, kind="http_error", status=503, count=1000, method="POST", path_prefix=f"{API}/orders")
        bot.run(max_cycles=3)
        events = container.event_store
        first = next(e.payload["client_order_id"] for e in events.read(types=[EventType.ORDER_UNKNOWN]))
        blocked = [e.payload["reason"] for e in events.read(types=[EventType.RISK_ORDER_REJECTED])]
        bot.run(max_cycles=5)
        given_up = [e.payload["client_order_id"] for e in events.read(types=[EventType.ORDER_NOT_FOUND])]
        stored = container.orders_store.get(first)
        state = container.risk_manager.state
        bot.shutdown()
    assert blocked.count("order_fate_unknown") >= 1  # while it was unknown, BTC-USD took no new order
    assert given_up[0] == first
    assert stored is not None
    assert (stored.status, stored.reject_reason) == (OrderStatus.FAILED, "NOT_FOUND")
    assert state is TradingState.ACTIVE  # the exchange answered: the order was known never to be there
    assert sdk_client(market).list_orders().orders == []


def test_an_order_that_cannot_be_looked_up_turns_the_bot_reduce_only(market: RunningSandbox, tmp_path: Path) -> None:
    config = canary(market, tmp_path, execution={"unresolved_order_seconds": 120})
    with ApplicationContainer(config, clock=SandboxClock(market)) as container:
        bot = container.create_bot(BuyEveryBar())
        bot.bootstrap()
        # The post is done and its answer lost; then every order call fails, the look-ups included.
        inject(market, kind="error_after", status=503, count=4, method="POST", path_prefix=f"{API}/orders")
        inject(market, kind="http_error", status=503, count=1000, path_prefix=f"{API}/orders")
        bot.run(max_cycles=5)
        events = container.event_store
        unknown = [e.payload["client_order_id"] for e in events.read(types=[EventType.ORDER_UNKNOWN])]
        overdue = [e.payload for e in events.read(types=[EventType.ORDER_UNRESOLVED])]
        refused = [e.payload["reason"] for e in events.read(types=[EventType.RISK_ORDER_REJECTED])]
        alerts = [e.payload for e in events.read(types=[EventType.ALERT]) if e.payload["rule"] == "order_fate_unknown"]
        state = container.risk_manager.state
        admin_call(market, "DELETE", "faults")
        bot.run(max_cycles=8)  # the exchange answers again: the order is found (at its next look-up)
        found = container.orders_store.get(unknown[0])
        bot.shutdown()
    assert len(unknown) == 1  # one order went out; every later decision for BTC-USD waited for it
    assert [o["client_order_id"] for o in overdue] == unknown
    assert "could not be looked up at the exchange within 120 s" in overdue[0]["message"]
    assert state is TradingState.REDUCE_ONLY
    assert "order_fate_unknown" in refused
    assert alerts
    assert unknown[0] in alerts[0]["message"]
    assert found is not None
    assert found.status is OrderStatus.FILLED


def collect(stream: Any) -> list[str]:
    """The lines of a child's output as they come, read on a thread (a pipe read would block the test)."""
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(stream.readline, "")), daemon=True).start()
    return lines


def test_a_kill_waits_for_an_order_already_on_its_way_and_leaves_the_exchange_flat(
    market: RunningSandbox, tmp_path: Path
) -> None:
    with ApplicationContainer(canary(market, tmp_path), clock=SandboxClock(market)) as container:
        bot = container.create_bot(BuyEveryBar())
        bot.bootstrap()
        submit, entered, release = bot.executor.submit, threading.Event(), threading.Event()

        def checked_not_yet_sent(request: OrderRequest) -> Any:
            """The moment a kill could slip through: the order passed the risk checks, nothing is stored."""
            entered.set()
            assert release.wait(60)
            return submit(request)

        bot.executor.submit = checked_not_yet_sent  # type: ignore[method-assign]
        cycle = threading.Thread(target=bot.run, kwargs={"max_cycles": 1})
        cycle.start()
        assert entered.wait(60), "the bot never sent its order"
        kill = subprocess.Popen(
            [sys.executable, "-m", "gpttrader.app.cli", "kill", "--profile", "canary", "--deadline", "30"],
            env=kill_env(market, tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for(lambda: container.risk_manager.reload_state() is TradingState.HALTED, 60, "the kill's halt")
        said = collect(kill.stderr)
        wait_for(lambda: any("waits for" in line for line in said), 60, "the kill to wait for the order on its way")
        release.set()
        cycle.join(60)
        assert kill.wait(timeout=120) == 0, "".join(said)[-2000:]
        bot.shutdown()
    assert peak_position(market)[1] == 0  # the order on its way went out first; the kill flattened it
