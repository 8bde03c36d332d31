"""Execution writes each order before sending it and records what the venue answered."""

from decimal import Decimal

import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.brokers.errors import InsufficientFundsError
from gpttrader.config import BotConfig
from gpttrader.domain import OrderRejected, OrderRequest, OrderStatus, OrderType, Side
from gpttrader.store import StoreError


def test_a_market_order_is_stored_sent_and_filled(config: BotConfig) -> None:
    with ApplicationContainer(config) as app:
        order = app.order_executor.submit(OrderRequest("e-1", "BTC-USD", Side.BUY, OrderType.MARKET, Decimal("0.5")))
        assert order.status is OrderStatus.FILLED
        assert order.filled_size == Decimal("0.5")
        fills = app.orders_store.fills("e-1")
        assert len(fills) > 1
        assert order.fees == sum(f.fee for f in fills)
        statuses = [s for _, s, _ in app.orders_store.history("e-1")]
        assert statuses[:2] == [OrderStatus.PENDING, OrderStatus.OPEN]
        assert statuses[-1] is OrderStatus.FILLED
        types = [e.type for e in app.event_store.tail(50)]
        assert types[:2] == ["order.intent", "order.acknowledged"]
        assert types.count("order.fill") == len(fills)
        # Recording the same venue state again changes nothing: fills count once.
        assert app.order_executor.refresh("e-1").filled_size == Decimal("0.5")
        assert len(app.orders_store.fills("e-1")) == len(fills)


def test_a_venue_reject_is_stored_as_rejected(config: BotConfig) -> None:
    with ApplicationContainer(config) as app:
        with pytest.raises(InsufficientFundsError):
            app.order_executor.submit(OrderRequest("e-2", "BTC-USD", Side.BUY, OrderType.MARKET, Decimal("9")))
        order = app.orders_store.get("e-2")
        assert order is not None
        assert (order.status, order.reject_reason) == (OrderStatus.REJECTED, "INSUFFICIENT_FUND")
        assert app.event_store.tail(1)[0].payload["reason"] == "INSUFFICIENT_FUND"


def test_an_order_below_minimums_never_becomes_an_intent(config: BotConfig) -> None:
    with ApplicationContainer(config) as app:
        with pytest.raises(OrderRejected, match="SIZE_BELOW_MINIMUM"):
            app.order_executor.submit(OrderRequest("e-3", "BTC-USD", Side.BUY, OrderType.MARKET, Decimal("1e-7")))
        assert app.orders_store.get("e-3") is None
        assert app.event_store.tail(1)[0].payload["stage"] == "pre-send"


def test_cancel_a_resting_order(config: BotConfig) -> None:
    with ApplicationContainer(config) as app:
        ask = app.coinbase_broker.quote("BTC-USD").ask
        app.order_executor.submit(
            OrderRequest("e-4", "BTC-USD", Side.SELL, OrderType.LIMIT, Decimal("0.1"), limit_price=ask * 2)
        )
        assert [o.client_order_id for o in app.orders_store.open_orders()] == ["e-4"]
        assert app.order_executor.cancel("e-4").status is OrderStatus.CANCELLED
        assert app.orders_store.open_orders() == []


def test_a_resting_limit_order_is_amended_at_the_venue_and_in_the_store(config: BotConfig) -> None:
    with ApplicationContainer(config) as app:
        price = app.broker.quote("BTC-USD").bid
        far = (price * Decimal("0.8")).quantize(Decimal("0.01"))
        request = OrderRequest("e-4", "BTC-USD", Side.BUY, OrderType.LIMIT, Decimal("0.002"), far)
        assert app.order_executor.submit(request).status is OrderStatus.OPEN
        closer = (price * Decimal("0.9")).quantize(Decimal("0.01"))
        amended = app.order_executor.amend("e-4", size=Decimal("0.003"), limit_price=closer)
        assert (amended.request.size, amended.request.limit_price) == (Decimal("0.003"), closer)
        stored = app.orders_store.get("e-4")
        assert stored is not None
        assert (stored.request.size, stored.request.limit_price) == (Decimal("0.003"), closer)
        venue = app.broker.get_order(stored.order_id or "")
        assert (venue.request.size, venue.request.limit_price) == (Decimal("0.003"), closer)
        assert [e.type for e in app.event_store.tail(2)] == ["order.amend_requested", "order.amended"]
        assert app.order_executor.cancel("e-4").status is OrderStatus.CANCELLED
        with pytest.raises(StoreError, match="not open at the venue"):
            app.order_executor.amend("e-4", size=Decimal("0.004"), limit_price=closer)
