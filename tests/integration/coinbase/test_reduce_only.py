"""Reduce-only reaches the exchange: through the adapter a reduce-only market order on a future goes out as
close position, so neither it nor a kill switch's flatten sized on a stale view of the position can open the
reverse; the sandbox answers close position as Coinbase does (de-duplicated by client order id, never past
flat, an error body when there is nothing to close)."""

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.brokers.coinbase import CoinbaseBroker
from gpttrader.brokers.errors import InvalidOrderError
from gpttrader.domain import Order, OrderRequest, OrderStatus, OrderType, ProductType, Side
from gpttrader.engine.execution_coordinator import ExecutionCoordinator
from gpttrader.sandbox import RunningSandbox
from tests.integration.engine.sessions import FUTURE, START, futures_config
from tests.integration.sandbox.conftest import SandboxFactory, sdk_client


def a_future(broker: CoinbaseBroker) -> str:
    return next(p.product_id for p in broker.products() if p.product_type is ProductType.FUTURE)


def reduce_only(cid: str, product_id: str, side: Side, size: str) -> OrderRequest:
    return OrderRequest(cid, product_id, side, OrderType.MARKET, Decimal(size), reduce_only=True)


def held(broker: CoinbaseBroker, product_id: str) -> Decimal:
    return sum((p.size for p in broker.positions() if p.product_id == product_id), Decimal(0))


def test_a_reduce_only_order_larger_than_the_position_never_reverses_it(broker: CoinbaseBroker) -> None:
    future = a_future(broker)
    broker.place_order(OrderRequest("ro-open", future, Side.BUY, OrderType.MARKET, Decimal(1)))
    with pytest.raises(InvalidOrderError, match="exceeds the position"):
        broker.place_order(reduce_only("ro-too-big", future, Side.SELL, "3"))
    assert held(broker, future) == Decimal(1)
    closed = broker.place_order(reduce_only("ro-close", future, Side.SELL, "1"))
    assert (closed.side, closed.status, closed.filled_size) == (Side.SELL, OrderStatus.FILLED, Decimal(1))
    assert held(broker, future) == 0
    again = broker.place_order(reduce_only("ro-close", future, Side.SELL, "1"))  # a resend after a lost answer
    assert again.order_id == closed.order_id
    assert held(broker, future) == 0
    with pytest.raises(InvalidOrderError, match="no open position"):
        broker.place_order(reduce_only("ro-flat", future, Side.SELL, "1"))
    assert broker.positions() == []


def test_a_reduce_only_order_is_found_by_its_client_order_id_with_its_fills(broker: CoinbaseBroker) -> None:
    future = a_future(broker)
    broker.place_order(OrderRequest("rf-open", future, Side.SELL, OrderType.MARKET, Decimal(2)))
    closed = broker.place_order(reduce_only("rf-close", future, Side.BUY, "2"))
    assert closed.order_id is not None
    listed = {o.client_order_id: o for o in broker.list_orders(future)}
    assert listed["rf-close"].order_id == closed.order_id
    fills = broker.fills(order_id=closed.order_id)
    assert sum((f.size for f in fills), Decimal(0)) == Decimal(2)
    assert {(f.client_order_id, f.side) for f in fills} == {("rf-close", Side.BUY)}


def test_a_reduce_only_spot_sell_is_an_ordinary_sell(broker: CoinbaseBroker) -> None:
    broker.place_order(OrderRequest("sp-buy", "BTC-USD", Side.BUY, OrderType.MARKET, Decimal("0.01")))
    sold = broker.place_order(reduce_only("sp-sell", "BTC-USD", Side.SELL, "0.01"))
    assert (sold.status, sold.filled_size) == (OrderStatus.FILLED, Decimal("0.01"))


def test_close_position_refuses_like_coinbase_when_there_is_nothing_to_close(sandbox: RunningSandbox) -> None:
    client = sdk_client(sandbox)
    future = next(p["product_id"] for p in client.get_products().to_dict()["products"] if p["product_type"] == "FUTURE")
    nothing = client.close_position(client_order_id="cp-0", product_id=future, size="1").to_dict()
    assert nothing["success"] is False
    assert {"error", "message", "error_details", "preview_failure_reason", "new_order_failure_reason"} <= set(
        nothing["error_response"]
    )
    assert client.market_order_buy(client_order_id="cp-open", product_id=future, base_size="2").success
    refused = client.close_position(client_order_id="cp-1", product_id=future, size="3").to_dict()
    assert refused["success"] is False
    assert len(client.list_futures_positions().positions) == 1


def test_close_position_is_de_duplicated_by_client_order_id(sandbox: RunningSandbox) -> None:
    client = sdk_client(sandbox)
    future = next(p["product_id"] for p in client.get_products().to_dict()["products"] if p["product_type"] == "FUTURE")
    assert client.market_order_buy(client_order_id="dd-open", product_id=future, base_size="2").success
    first = client.close_position(client_order_id="dd-close", product_id=future, size="2").to_dict()
    again = client.close_position(client_order_id="dd-close", product_id=future, size="2").to_dict()
    assert first["success"], first
    assert again["success"], again
    assert again["success_response"]["order_id"] == first["success_response"]["order_id"]
    assert client.list_futures_positions().positions == []
    assert len(client.list_orders(product_ids=[future]).orders) == 2


@pytest.fixture
def market(start_sandbox: SandboxFactory) -> RunningSandbox:
    return start_sandbox(virtual_start=START.timestamp(), speed=1.0)


def traded(sandbox: RunningSandbox) -> dict[Side, Decimal]:
    """The future's contracts bought and sold at the exchange."""
    totals = dict.fromkeys(Side, Decimal(0))
    for fill in sdk_client(sandbox).get_fills(product_ids=[FUTURE]).fills:
        totals[Side(fill.side)] += Decimal(fill.size)
    return totals


def test_a_kill_never_reverses_a_position_reduced_by_a_fill_it_had_not_booked(
    market: RunningSandbox, tmp_path: Path
) -> None:
    with ApplicationContainer(futures_config(market, tmp_path, "2"), clock=SandboxClock(market)) as container:
        container.order_executor.submit(OrderRequest("setup-buy", FUTURE, Side.BUY, OrderType.MARKET, Decimal(2)))
        bot = container.create_bot()
        bot.prepare()
        execution: ExecutionCoordinator = bot.execution
        submit: Callable[[OrderRequest], Order] = execution.executor.submit
        sent: list[OrderRequest] = []

        def exit_fills_first(request: OrderRequest) -> Order:
            """Between the kill's read of the position and its flatten, an exit fills at the exchange."""
            if not sent:
                sdk_client(market).market_order_sell(client_order_id="unbooked", product_id=FUTURE, base_size="1")
            sent.append(request)
            return submit(request)

        execution.executor.submit = exit_fills_first  # type: ignore[method-assign]
        report = bot.kill(operator="ops", reason="kill")
        assert sent[0].size == Decimal(2)  # the flatten was sized on the position before the exit filled
        assert report.complete, report.left()
    # Only the 2 contracts bought were ever sold: a short would have been sold past them, and bought back.
    assert traded(market) == {Side.BUY: Decimal(2), Side.SELL: Decimal(2)}
