from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gpttrader.domain import OrderRejected, OrderRequest, OrderType, Product, Side, prepare_order
from gpttrader.domain.quantize import quantize_price, quantize_size

INCREMENTS = st.sampled_from(
    [
        Decimal("0.00000001"),
        Decimal("0.0001"),
        Decimal("0.01"),
        Decimal("0.25"),
        Decimal("1"),
        Decimal("5"),
        Decimal("0.5"),
    ]
)
VALUES = st.decimals(
    min_value=Decimal("0.00000001"), max_value=Decimal("10000000"), places=10, allow_nan=False, allow_infinity=False
)


def product(base_increment: Decimal, quote_increment: Decimal) -> Product:
    return Product("X-USD", "X", "USD", base_increment, quote_increment, Decimal(0), Decimal("1e9"), Decimal(0))


def on_grid(value: Decimal, increment: Decimal) -> bool:
    return value % increment == 0


@given(VALUES, INCREMENTS)
def test_size_is_on_grid_never_larger_and_idempotent(size: Decimal, increment: Decimal) -> None:
    p = product(increment, Decimal("0.01"))
    q = quantize_size(size, p)
    assert on_grid(q, increment)
    assert q <= size
    assert size - q < increment
    assert quantize_size(q, p) == q


@given(VALUES, INCREMENTS, st.sampled_from(list(Side)))
def test_price_rounds_to_the_passive_side(price: Decimal, increment: Decimal, side: Side) -> None:
    p = product(Decimal("0.01"), increment)
    q = quantize_price(price, p, side)
    assert on_grid(q, increment)
    assert abs(price - q) < increment
    if side is Side.BUY:
        assert q <= price
    else:
        assert q >= price
    assert quantize_price(q, p, side) == q


def test_examples(btc: Product) -> None:
    assert quantize_size(Decimal("0.123456789"), btc) == Decimal("0.12345678")
    assert quantize_price(Decimal("100.019"), btc, Side.BUY) == Decimal("100.01")
    assert quantize_price(Decimal("100.011"), btc, Side.SELL) == Decimal("100.02")
    assert str(quantize_price(Decimal("100"), btc, Side.SELL)) == "100.00"


def order(
    size: str, price: str | None = "100", order_type: OrderType = OrderType.LIMIT, side: Side = Side.BUY
) -> OrderRequest:
    return OrderRequest(
        "c-1", "BTC-USD", side, order_type, Decimal(size), limit_price=None if price is None else Decimal(price)
    )


def test_prepare_order_quantizes(btc: Product) -> None:
    prepared = prepare_order(order("0.123456789", "100.019"), btc)
    assert prepared.size == Decimal("0.12345678")
    assert prepared.limit_price == Decimal("100.01")
    assert prepared.client_order_id == "c-1"


@pytest.mark.parametrize(
    ("size", "price", "reason"),
    [
        ("0.000009999", "100", "SIZE_BELOW_MINIMUM"),
        ("0.000000001", "100", "SIZE_BELOW_MINIMUM"),
        ("3400.1", "100", "SIZE_ABOVE_MAXIMUM"),
        ("0.009", "100", "NOTIONAL_BELOW_MINIMUM"),
        ("0.01", "0.001", "PRICE_BELOW_INCREMENT"),
    ],
)
def test_prepare_order_rejects_below_minimums(btc: Product, size: str, price: str, reason: str) -> None:
    with pytest.raises(OrderRejected) as info:
        prepare_order(order(size, price), btc)
    assert info.value.reason == reason
    assert "BTC-USD" in info.value.message


def test_minimum_is_exactly_allowed(btc: Product) -> None:
    assert prepare_order(order("0.01", "100"), btc).size == Decimal("0.01")
    assert prepare_order(order("0.00001", "100000"), btc).size == Decimal("0.00001")


def test_market_order_notional_checked_against_reference_price(btc: Product) -> None:
    market = order("0.005", None, OrderType.MARKET)
    assert prepare_order(market, btc).size == Decimal("0.005")
    with pytest.raises(OrderRejected, match="NOTIONAL_BELOW_MINIMUM"):
        prepare_order(market, btc, reference_price=Decimal("100"))


def test_future_notional_uses_contract_size(btc_future: Product) -> None:
    sell = OrderRequest(
        "c-2", btc_future.product_id, Side.SELL, OrderType.LIMIT, Decimal("2.7"), limit_price=Decimal("95001")
    )
    prepared = prepare_order(sell, btc_future)
    assert prepared.size == Decimal("2")
    assert prepared.limit_price == Decimal("95005")


def test_product_mismatch_is_rejected(btc_future: Product) -> None:
    with pytest.raises(OrderRejected, match="PRODUCT_MISMATCH"):
        prepare_order(order("1"), btc_future)
