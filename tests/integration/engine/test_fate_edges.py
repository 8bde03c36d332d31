"""The edges a red-team pass found around orders of unknown fate and the kill switch, each once a way to send
an order twice, to lose one, or to call the exchange clean when it was not; against the sandbox."""

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.brokers.errors import ExchangeUnavailableError, MalformedAnswerError
from gpttrader.domain import Order, OrderRequest, OrderStatus, OrderType, Side
from gpttrader.domain.events import EventType
from gpttrader.engine.bot import TradingBot
from gpttrader.engine.execution_coordinator import ExecutionCoordinator
from gpttrader.engine.kill import engage_kill_switch
from gpttrader.risk import TradingState
from gpttrader.sandbox import RunningSandbox
from tests.integration.engine.sessions import API, canary, exchange_fills, holding, peak_position
from tests.integration.engine.strategies import BuyEveryBar
from tests.integration.sandbox.conftest import admin_call, inject, sdk_client


def bought(sandbox: RunningSandbox) -> Decimal:
    return sum((Decimal(f.size) for f in exchange_fills(sandbox) if f.side == "BUY"), Decimal(0))


def sold(sandbox: RunningSandbox) -> Decimal:
    return sum((Decimal(f.size) for f in exchange_fills(sandbox) if f.side == "SELL"), Decimal(0))


def prepared(container: ApplicationContainer) -> Callable[[], ExecutionCoordinator]:
    def build() -> ExecutionCoordinator:
        bot = container.create_bot()
        bot.prepare()
        return bot.execution

    return build


def test_a_rate_limit_after_a_lost_answer_leaves_the_order_unknown(market: RunningSandbox, tmp_path: Path) -> None:
    with ApplicationContainer(canary(market, tmp_path), clock=SandboxClock(market)) as container:
        bot = container.create_bot(BuyEveryBar())
        bot.bootstrap()
        inject(market, kind="error_after", status=503, count=1, method="POST", path_prefix=f"{API}/orders")
        inject(market, kind="rate_limit", retry_after=0.1, count=10, method="POST", path_prefix=f"{API}/orders")
        request = OrderRequest("rl-buy", "BTC-USD", Side.BUY, OrderType.MARKET, Decimal("0.002"))
        with pytest.raises(ExchangeUnavailableError, match="answer was lost"):
            container.order_executor.submit(request)
        stored = container.orders_store.get("rl-buy")
        assert stored is not None
        assert stored.status is OrderStatus.UNKNOWN  # not FAILED: the first attempt was processed
        admin_call(market, "DELETE", "faults")
        bot.execution.resolve_unknown(container.clock.now(), force=True)
        assert bot.execution.portfolio.size("BTC-USD") == Decimal("0.002") == bought(market)
        bot.shutdown()


def test_an_answer_without_filled_size_is_never_read_as_nothing_filled(market: RunningSandbox, tmp_path: Path) -> None:
    with ApplicationContainer(canary(market, tmp_path), clock=SandboxClock(market)) as container:
        bot = container.create_bot(BuyEveryBar())
        bot.bootstrap()
        inject(market, kind="garble", body="drop_field", field="filled_size", path_prefix=f"{API}/orders/historical")
        with pytest.raises(MalformedAnswerError, match="filled_size"):
            container.order_executor.submit(
                OrderRequest("g-buy", "BTC-USD", Side.BUY, OrderType.MARKET, Decimal("0.002"))
            )
        bot.execution.resolve_unknown(container.clock.now(), force=True)
        stored = container.orders_store.get("g-buy")
        assert stored is not None
        assert stored.status is OrderStatus.FILLED
        assert sum(f.size for f in container.orders_store.fills()) == Decimal("0.002") == bought(market)
        bot.shutdown()


def unknown_buy(container: ApplicationContainer, sandbox: RunningSandbox) -> tuple[TradingBot, str]:
    """A bot whose buy never reached the exchange, left UNKNOWN (every send refused without the work)."""
    bot = container.create_bot(BuyEveryBar())
    bot.bootstrap()
    inject(sandbox, kind="http_error", status=503, count=1000, method="POST", path_prefix=f"{API}/orders")
    bot.run(max_cycles=1)
    admin_call(sandbox, "DELETE", "faults")
    cid = next(e.payload["client_order_id"] for e in container.event_store.read(types=[EventType.ORDER_UNKNOWN]))
    order = container.orders_store.get(cid)
    assert order is not None
    assert order.status is OrderStatus.UNKNOWN
    return bot, cid


def test_the_kill_switch_never_sends_a_strategys_order_again(market: RunningSandbox, tmp_path: Path) -> None:
    config = canary(market, tmp_path, execution={"kill_deadline_seconds": 3})
    with ApplicationContainer(config, clock=SandboxClock(market)) as container:
        bot, cid = unknown_buy(container, market)
        report = bot.kill(operator="ops", reason="stop everything", flatten=False)
        resent = [e.payload["client_order_id"] for e in container.event_store.read(types=[EventType.ORDER_RESENT])]
        bot.shutdown()
    assert bought(market) == 0
    assert cid not in resent[1:]  # the bot's own resend in its cycle came before the kill; the kill sent none
    assert not report.complete  # the exchange may still list it late: said, not hidden
    assert f"open order {cid}" in report.left()


def test_a_halted_bot_never_sends_an_order_again(market: RunningSandbox, tmp_path: Path) -> None:
    with ApplicationContainer(canary(market, tmp_path), clock=SandboxClock(market)) as container:
        bot, _cid = unknown_buy(container, market)
        resent_before = sum(1 for _ in container.event_store.read(types=[EventType.ORDER_RESENT]))
        container.risk_manager.engage_kill_switch(operator="ops", reason="halt")  # as `gpttrader kill` records it
        bot.run(max_cycles=3)
        resent_after = sum(1 for _ in container.event_store.read(types=[EventType.ORDER_RESENT]))
        state = container.risk_manager.state
        bot.shutdown()
    assert resent_after == resent_before
    assert state is TradingState.HALTED
    assert bought(market) == 0


def test_the_kill_switch_cancels_an_order_the_store_wrongly_holds_done(market: RunningSandbox, tmp_path: Path) -> None:
    with ApplicationContainer(canary(market, tmp_path), clock=SandboxClock(market)) as container:
        rest = OrderRequest("rest-buy", "BTC-USD", Side.BUY, OrderType.LIMIT, Decimal("0.001"), Decimal(20_000))
        container.orders_store.add(rest)
        container.coinbase_broker.place_order(rest)
        container.orders_store.transition("rest-buy", OrderStatus.FAILED, reject_reason="NOT_SENT")
        report = container.create_bot().kill(operator="ops", reason="stop")
    assert "rest-buy" in report.cancelled
    assert report.complete
    assert sdk_client(market).list_orders(order_status=["OPEN"]).orders == []


def test_an_order_the_exchange_lists_late_is_found_not_failed(market: RunningSandbox, tmp_path: Path) -> None:
    config = canary(market, tmp_path)
    request = OrderRequest("crash-buy", "BTC-USD", Side.BUY, OrderType.MARKET, Decimal("0.002"))
    with ApplicationContainer(config, clock=SandboxClock(market)) as crashed:
        crashed.orders_store.add(request)  # written PENDING, sent and filled, then SIGKILL before the answer
        crashed.coinbase_broker.place_order(request)
    with ApplicationContainer(config, clock=SandboxClock(market)) as restarted:
        bot = restarted.create_bot(BuyEveryBar())
        listing = bot.broker.list_orders
        lagging = {"on": True}

        def late(product_id: str | None = None, *, open_only: bool = False) -> list[Order]:
            listed = listing(product_id, open_only=open_only)
            return [o for o in listed if not (lagging["on"] and o.client_order_id == "crash-buy")]

        bot.broker.list_orders = late  # type: ignore[method-assign]
        report = bot.bootstrap()
        assert report.unresolved == ["crash-buy"]
        lagging["on"] = False
        bot.execution.resolve_unknown(restarted.clock.now(), force=True)
        found = restarted.orders_store.get("crash-buy")
        assert found is not None
        assert found.status is OrderStatus.FILLED
        assert bot.execution.portfolio.size("BTC-USD") == Decimal("0.002")
        bot.shutdown()
    assert [o.client_order_id for o in sdk_client(market).list_orders().orders] == ["crash-buy"]  # not sent again


def test_an_unknown_order_of_a_product_no_longer_traded_does_not_crash_the_bot(
    market: RunningSandbox, tmp_path: Path
) -> None:
    with ApplicationContainer(canary(market, tmp_path), clock=SandboxClock(market)) as container:
        container.orders_store.add(OrderRequest("eth-1", "ETH-USD", Side.BUY, OrderType.MARKET, Decimal("0.01")))
        container.orders_store.transition("eth-1", OrderStatus.UNKNOWN, time=datetime.now(UTC))
        bot = container.create_bot(BuyEveryBar())
        bot.bootstrap()
        bot.run(max_cycles=2)
        assert bot.metrics.cycles == 2
        bot.shutdown()


def test_a_spot_kill_does_not_need_the_futures_endpoints(market: RunningSandbox, tmp_path: Path) -> None:
    holding(market, tmp_path, size="0.002")
    inject(market, kind="http_error", status=503, count=1000, path_prefix=f"{API}/cfm")
    with ApplicationContainer(canary(market, tmp_path)) as container:
        report = container.create_bot().kill(operator="ops", reason="futures down")
    assert report.complete
    assert sold(market) == Decimal("0.002")


def test_a_milder_escalation_never_overwrites_a_kill_recorded_by_another_process(
    market: RunningSandbox, tmp_path: Path
) -> None:
    config = canary(market, tmp_path)
    with ApplicationContainer(config) as bot_side, ApplicationContainer(config) as kill_side:
        assert bot_side.risk_manager.reload_state() is TradingState.ACTIVE  # a cycle starts
        kill_side.risk_manager.engage_kill_switch(operator="ops", reason="kill")  # `gpttrader kill`, meanwhile
        bot_side.risk_manager.escalate(TradingState.REDUCE_ONLY, "guard api_errors")  # later in that cycle
        assert bot_side.risk_manager.state is TradingState.HALTED
    with ApplicationContainer(config) as restarted:
        assert restarted.risk_manager.state is TradingState.HALTED


def test_two_kills_at_once_sell_the_position_once(market: RunningSandbox, tmp_path: Path) -> None:
    holding(market, tmp_path, size="0.002")
    config = canary(market, tmp_path)
    with ApplicationContainer(config) as first, ApplicationContainer(config) as second:
        execution = prepared(first)()
        submit = execution.executor.submit
        reports = []

        def second_kill_in_between(request: OrderRequest) -> Order:
            """The second kill runs whole between the first's read of the holding and its send."""
            if not reports:
                reports.append(
                    engage_kill_switch(
                        prepared(second),
                        second.risk_manager,
                        second.event_store,
                        ids=config.client_ids,
                        operator="ops2",
                        reason="again",
                        deadline_seconds=20,
                    )
                )
            return submit(request)

        execution.executor.submit = second_kill_in_between  # type: ignore[method-assign]
        engage_kill_switch(
            lambda: execution,
            first.risk_manager,
            first.event_store,
            ids=config.client_ids,
            operator="ops",
            reason="kill",
            deadline_seconds=20,
        )
    assert sold(market) == Decimal("0.002")
    assert peak_position(market)[1] == 0
