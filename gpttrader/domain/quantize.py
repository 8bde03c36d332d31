"""Put prices and sizes on a product's grid before they leave the process.

Sizes round down so an order never asks for more than the strategy wanted. Limit prices round toward
the passive side (a buy down, a sell up) so quantizing never makes a price more aggressive than asked.
Minimums are checked after rounding and an order below them is rejected, never bumped up.
"""

from dataclasses import fields
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from gpttrader.domain.enums import Side
from gpttrader.domain.errors import OrderRejected
from gpttrader.domain.orders import OrderRequest, PreparedOrder
from gpttrader.domain.products import Product


def round_to_increment(value: Decimal, increment: Decimal, rounding: str) -> Decimal:
    steps = (value / increment).to_integral_value(rounding=rounding)
    # Keep the increment's exponent, so 100 on a 0.01 grid goes on the wire as "100.00", not "1E+2".
    return (steps * increment).quantize(increment)


def quantize_size(size: Decimal, product: Product) -> Decimal:
    return round_to_increment(size, product.base_increment, ROUND_FLOOR)


def quantize_price(price: Decimal, product: Product, side: Side) -> Decimal:
    rounding = ROUND_FLOOR if side is Side.BUY else ROUND_CEILING
    return round_to_increment(price, product.quote_increment, rounding)


def prepare_order(request: OrderRequest, product: Product, reference_price: Decimal | None = None) -> PreparedOrder:
    """Quantize `request` to `product` and check it against the product's limits.

    `reference_price` stands in for the limit price when checking a market order's notional; without it
    a market order's notional is not checked here (the venue will).
    """
    if request.product_id != product.product_id:
        raise OrderRejected(
            "PRODUCT_MISMATCH", f"order is for {request.product_id}, product given is {product.product_id}"
        )
    size = quantize_size(request.size, product)
    if size <= 0 or size < product.base_min_size:
        raise OrderRejected(
            "SIZE_BELOW_MINIMUM",
            f"{product.product_id} size {request.size} (on the grid: {size}) is below the minimum "
            f"{product.base_min_size} (increment {product.base_increment})",
        )
    if size > product.base_max_size:
        raise OrderRejected(
            "SIZE_ABOVE_MAXIMUM", f"{product.product_id} size {size} is above the maximum {product.base_max_size}"
        )
    # A stop trigger rounds the same way as the limit it arms, so the two keep their order after rounding.
    limit = None if request.limit_price is None else quantize_price(request.limit_price, product, request.side)
    stop = None if request.stop_price is None else quantize_price(request.stop_price, product, request.side)
    for name, value in (("limit_price", limit), ("stop_price", stop)):
        if value is not None and value <= 0:
            raise OrderRejected(
                "PRICE_BELOW_INCREMENT",
                f"{product.product_id} {name} rounds to {value} on the grid of {product.quote_increment}",
            )
    price = limit if limit is not None else reference_price
    if price is not None:
        notional = size * price * product.multiplier
        if notional < product.quote_min_size:
            raise OrderRejected(
                "NOTIONAL_BELOW_MINIMUM",
                f"{product.product_id} notional {notional} {product.quote_currency} is below the minimum "
                f"{product.quote_min_size}",
            )
    fixed = request.with_prices(size, limit, stop)
    return PreparedOrder(**{f.name: getattr(fixed, f.name) for f in fields(OrderRequest)})
