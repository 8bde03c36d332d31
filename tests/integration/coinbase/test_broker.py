"""The adapter end to end: the official SDK over real HTTPS to the sandbox, mapped to domain types."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from gpttrader.brokers.coinbase import CoinbaseBroker, create_coinbase_broker
from gpttrader.brokers.errors import AuthenticationError, InsufficientFundsError, InvalidOrderError, NotFoundError
from gpttrader.config import load_config
from gpttrader.domain import Granularity, OrderRequest, OrderStatus, OrderType, ProductType, Side, TimeInForce
from gpttrader.sandbox import RunningSandbox, generate_key_file
from tests.integration.coinbase.conftest import config_for
from tests.integration.sandbox.conftest import SandboxFactory


def market(cid: str, size: str, side: Side = Side.BUY, product: str = "BTC-USD") -> OrderRequest:
    return OrderRequest(cid, product, side, OrderType.MARKET, Decimal(size))


def test_catalog_maps_spot_and_futures(broker: CoinbaseBroker) -> None:
    products = {p.product_id: p for p in broker.products()}
    btc = products["BTC-USD"]
    assert (btc.base_currency, btc.quote_currency, btc.product_type) == ("BTC", "USD", ProductType.SPOT)
    assert btc.base_increment == Decimal("0.00000001")
    assert btc.quote_increment == Decimal("0.01")
    futures = [p for p in products.values() if p.product_type is ProductType.FUTURE]
    assert len(futures) == 6
    assert sorted(f.product_id for f in futures if f.perpetual_style) == ["BIP-20DEC30-CDE", "ETP-20DEC30-CDE"]
    assert all(f.expiry is not None and f.expiry > datetime.now(UTC) for f in futures)
    assert not any(p.product_type is ProductType.PERPETUAL for p in products.values())


def test_perpetuals_need_the_derivatives_switch(start_sandbox: SandboxFactory, clean_env: dict[str, str]) -> None:
    sandbox = start_sandbox(derivatives_enabled=True)
    without = create_coinbase_broker(config_for(sandbox, clean_env))
    with pytest.raises(InvalidOrderError, match="COINBASE_ENABLE_DERIVATIVES=1") as info:
        without.product("BTC-PERP-INTX")
    assert info.value.reason == "DERIVATIVES_DISABLED"
    with pytest.raises(InvalidOrderError, match="COINBASE_ENABLE_DERIVATIVES=1"):
        without.place_order(market("p-1", "0.01", product="BTC-PERP-INTX"))
    with_flag = create_coinbase_broker(config_for(sandbox, clean_env, COINBASE_ENABLE_DERIVATIVES="1"))
    perp = with_flag.product("BTC-PERP-INTX")
    assert perp.product_type is ProductType.PERPETUAL
    assert perp.contract_size == Decimal(1)
    assert any(p.product_type is ProductType.PERPETUAL for p in with_flag.products())


def test_quote_candles_and_balances(broker: CoinbaseBroker) -> None:
    quote = broker.quote("ETH-USD")
    assert quote.bid < quote.ask
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    candles = broker.candles("ETH-USD", Granularity.FIVE_MINUTE, end - timedelta(hours=2), end)
    assert len(candles) == 24
    assert [c.time for c in candles] == sorted(c.time for c in candles)
    assert all(c.low <= c.close <= c.high for c in candles)
    with pytest.raises(ValueError, match="at most 350"):
        broker.candles("ETH-USD", Granularity.ONE_MINUTE, end - timedelta(hours=7), end)
    balances = {b.currency: b for b in broker.balances()}
    assert balances["USD"].available == Decimal(100_000)
    assert balances["BTC"].total == Decimal(1)


def test_orders_are_quantized_before_they_are_sent(broker: CoinbaseBroker) -> None:
    order = broker.place_order(market("q-1", "0.123456789"))
    assert order.request.size == Decimal("0.12345678")
    assert order.status is OrderStatus.FILLED
    fills = broker.fills(order_id=order.order_id)
    assert sum(f.size for f in fills) == Decimal("0.12345678")
    assert {f.client_order_id for f in fills} == {"q-1"}
    assert sum(f.fee for f in fills) == order.fees


def test_below_minimum_is_refused_before_sending(broker: CoinbaseBroker, sandbox: RunningSandbox) -> None:
    with pytest.raises(InvalidOrderError, match="SIZE_BELOW_MINIMUM") as info:
        broker.place_order(market("q-2", "0.000001"))
    assert info.value.reason == "SIZE_BELOW_MINIMUM"
    assert broker.list_orders() == []


def test_limit_order_rests_partially_fills_and_cancels(broker: CoinbaseBroker, sandbox: RunningSandbox) -> None:
    quote = broker.quote("BTC-USD")
    resting = OrderRequest("l-1", "BTC-USD", Side.SELL, OrderType.LIMIT, Decimal("0.5"), limit_price=quote.ask * 3)
    order = broker.place_order(resting)
    assert order.status is OrderStatus.OPEN
    assert [o.client_order_id for o in broker.list_orders(open_only=True)] == ["l-1"]
    assert order.order_id is not None
    assert broker.cancel_orders([order.order_id]) == {order.order_id: True}
    assert broker.get_order(order.order_id).status is OrderStatus.CANCELLED
    ioc = OrderRequest(
        "l-2",
        "BTC-USD",
        Side.BUY,
        OrderType.LIMIT,
        Decimal("0.5"),
        limit_price=quote.ask,
        time_in_force=TimeInForce.IOC,
    )
    partial = broker.place_order(ioc)
    assert partial.status is OrderStatus.CANCELLED
    assert Decimal(0) < partial.filled_size < Decimal("0.5")
    assert partial.average_filled_price == quote.ask


def test_rejects_map_to_the_error_hierarchy(broker: CoinbaseBroker) -> None:
    with pytest.raises(InsufficientFundsError) as info:
        broker.place_order(market("r-1", "5"))
    assert info.value.reason == "INSUFFICIENT_FUND"
    quote = broker.quote("BTC-USD")
    post_only = OrderRequest(
        "r-2", "BTC-USD", Side.BUY, OrderType.LIMIT, Decimal("0.01"), limit_price=quote.ask + 100, post_only=True
    )
    with pytest.raises(InvalidOrderError) as rejected:
        broker.place_order(post_only)
    assert rejected.value.reason == "INVALID_LIMIT_PRICE_POST_ONLY"
    with pytest.raises(NotFoundError):
        broker.product("NOPE-USD")
    with pytest.raises(NotFoundError):
        broker.get_order("00000000-0000-0000-0000-000000000000")


def test_preview(broker: CoinbaseBroker) -> None:
    preview = broker.preview_order(market("v-1", "0.1"))
    assert preview.ok
    assert preview.commission == preview.quote_size * Decimal("0.006")
    assert not broker.preview_order(market("v-2", "50")).ok


def test_bad_credentials_are_an_authentication_error(
    sandbox: RunningSandbox, clean_env: dict[str, str], tmp_path: object
) -> None:
    from pathlib import Path

    stranger = Path(str(tmp_path)) / "stranger.json"
    generate_key_file(stranger)
    config = config_for(sandbox, clean_env, COINBASE_KEY_FILE=str(stranger))
    with pytest.raises(AuthenticationError, match="HTTP 401: Unauthorized"):  # plain text, as Coinbase answers
        create_coinbase_broker(config).balances()


def test_no_credentials_is_a_clear_error(clean_env: dict[str, str]) -> None:
    with pytest.raises(AuthenticationError, match="no Coinbase credentials"):
        create_coinbase_broker(load_config("canary"))
