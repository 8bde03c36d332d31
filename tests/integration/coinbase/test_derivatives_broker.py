"""The adapter's edit, positions, margin summary, close position, sweeps and intraday margin calls."""

from decimal import Decimal

import pytest

from gpttrader.brokers.coinbase import CoinbaseBroker, create_coinbase_broker
from gpttrader.brokers.errors import InvalidOrderError
from gpttrader.domain import OrderRequest, OrderStatus, OrderType, ProductType, Side
from tests.integration.coinbase.conftest import config_for
from tests.integration.sandbox.conftest import SandboxFactory


def test_edit_a_resting_order(broker: CoinbaseBroker) -> None:
    ask = broker.quote("BTC-USD").ask
    order = broker.place_order(
        OrderRequest("ed-1", "BTC-USD", Side.SELL, OrderType.LIMIT, Decimal("0.1"), limit_price=ask * 2)
    )
    assert order.order_id is not None
    edited = broker.edit_order(order.order_id, size=Decimal("0.2"), limit_price=ask * 3 + Decimal("0.001"))
    assert edited.request.size == Decimal("0.2")
    assert edited.request.limit_price == (ask * 3 + Decimal("0.01")).quantize(Decimal("0.01"))  # sell: rounds up
    assert edited.status is OrderStatus.OPEN
    with pytest.raises(InvalidOrderError) as same:
        broker.edit_order(order.order_id, size=Decimal("0.2"), limit_price=edited.request.limit_price or ask)
    assert same.value.reason == "EDIT_REQUEST_EQUAL_TO_ORIGINAL_REQUEST"
    market = broker.place_order(OrderRequest("ed-2", "BTC-USD", Side.BUY, OrderType.MARKET, Decimal("0.01")))
    assert market.order_id is not None
    with pytest.raises(InvalidOrderError, match="only limit orders"):
        broker.edit_order(market.order_id, size=Decimal("0.02"), limit_price=ask)


def test_futures_position_margin_and_close(broker: CoinbaseBroker) -> None:
    future = next(p for p in broker.products() if p.product_type is ProductType.FUTURE)
    assert broker.positions() == []
    before = broker.margin_summary()
    assert before.initial_margin == 0
    broker.place_order(OrderRequest("fu-1", future.product_id, Side.SELL, OrderType.MARKET, Decimal("2")))
    (position,) = broker.positions()
    assert (position.product_id, position.size, position.product_type) == (
        future.product_id,
        Decimal(-2),
        ProductType.FUTURE,
    )
    assert position.multiplier == future.contract_size
    summary = broker.margin_summary()
    assert summary.initial_margin == position.notional * Decimal("0.20")
    assert summary.available_margin < before.available_margin
    closed = broker.close_position(future.product_id, "fu-2")
    assert closed.side is Side.BUY
    assert closed.status is OrderStatus.FILLED
    assert broker.positions() == []


def test_sweeps_and_intraday_margin(broker: CoinbaseBroker) -> None:
    assert broker.schedule_sweep(Decimal(250))
    assert broker.pending_sweeps() == [Decimal(250)]
    assert broker.cancel_sweep()
    assert broker.pending_sweeps() == []
    broker.set_intraday_margin_setting("INTRADAY_MARGIN_SETTING_INTRADAY")
    assert broker.intraday_margin_setting() == "INTRADAY_MARGIN_SETTING_INTRADAY"


def test_perpetual_positions_with_derivatives(start_sandbox: SandboxFactory, clean_env: dict[str, str]) -> None:
    sandbox = start_sandbox(derivatives_enabled=True)
    broker = create_coinbase_broker(config_for(sandbox, clean_env, COINBASE_ENABLE_DERIVATIVES="1"))
    broker.place_order(OrderRequest("pp-1", "ETH-PERP-INTX", Side.BUY, OrderType.MARKET, Decimal("0.5")))
    (position,) = broker.positions()
    assert (position.product_id, position.size, position.product_type) == (
        "ETH-PERP-INTX",
        Decimal("0.5"),
        ProductType.PERPETUAL,
    )
    assert position.entry_price > 0
