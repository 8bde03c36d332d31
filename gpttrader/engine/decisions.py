"""From a strategy's decision to the order that carries it out: the step the backtest, paper and live share.

Orders are sized at the price they are expected to execute at (the next open in a backtest, the quote
live, or the entry's limit), with the portfolio valued at `marks`. A target's magnitude (an intent's
fraction) is the signal's confidence, its sign (the intent's side) the direction; the sizer (any of the
risk layer's) says how large a full-confidence position is. Buying spot never spends more than the
`spendable` cash of the product's quote currency at the highest price the order may pay (`spend_price`:
its limit, or the bound a market order is sent with), fee included, so all-in from flat is
spendable / (price x (1 + fee)) and the exchange's hold fits in what is available. No order when the size
is below the product's minimum.
"""

from collections.abc import Mapping
from decimal import Decimal

from gpttrader.domain import OrderRequest, OrderType, Product, Side
from gpttrader.domain.quantize import quantize_price, quantize_size
from gpttrader.risk import PositionSizer, PositionSizeRequest
from gpttrader.strategy import OrderIntent


def target_size(
    *, product: Product, target: float, price: Decimal, equity: Decimal, sizer: PositionSizer, strategy_name: str = ""
) -> Decimal:
    """The signed position a target means at `price` with `equity`."""
    if not target:
        return Decimal(0)
    size = _full_size(sizer, product, price, equity, strategy_name, target)
    return size if target > 0 else -size


def negligible(size: Decimal, product: Product) -> bool:
    """A size no order could carry: under the product's increment or its minimum."""
    left = quantize_size(abs(size), product)
    return left == 0 or left < product.base_min_size


def orderable_change(
    *, product: Product, change: Decimal, spendable: Decimal, spend_price: Decimal, fee_rate: Decimal
) -> Decimal:
    """The signed size a market order can move a position by toward `change`: a buy cut to what can be paid
    for, on the product's grid; 0 when that is under its minimum (no order)."""
    change = _affordable(change, product, spendable, spend_price, fee_rate)
    size = quantize_size(abs(change), product)
    if size == 0 or size < product.base_min_size:
        return Decimal(0)
    return size if change > 0 else -size


def market_order(client_order_id: str, product: Product, change: Decimal) -> OrderRequest:
    """The market order for a signed `change` (from `orderable_change`)."""
    side = Side.BUY if change > 0 else Side.SELL
    return OrderRequest(client_order_id, product.product_id, side, OrderType.MARKET, abs(change))


def order_for_intent(
    *,
    client_order_id: str,
    product: Product,
    intent: OrderIntent,
    sellable: Decimal,
    marks: Mapping[str, Decimal],
    equity: Decimal,
    sizer: PositionSizer,
    fee_rate: Decimal,
    spendable: Decimal,
    spend_price: Decimal | None = None,
    strategy_name: str = "",
) -> OrderRequest | None:
    """The entry order of an intent, its prices on the product's grid (toward the passive side). A spot
    sell sells at most `sellable` (what is held and not already being sold)."""
    limit = _on_grid(intent.limit_price, product, intent.side)
    stop = _on_grid(intent.stop_price, product, intent.side)
    price = limit or marks[product.product_id]
    size = _full_size(sizer, product, price, equity, strategy_name, intent.fraction)
    if intent.side is Side.SELL and not product.is_derivative:
        size = min(size, max(sellable, Decimal(0)))
    signed = size if intent.side is Side.BUY else -size
    signed = _affordable(signed, product, spendable, limit or spend_price or price, fee_rate)
    size = quantize_size(abs(signed), product)
    if size == 0 or size < product.base_min_size:
        return None
    return OrderRequest(client_order_id, product.product_id, intent.side, intent.order_type, size, limit, stop)


def _on_grid(price: float | None, product: Product, side: Side) -> Decimal | None:
    return None if price is None else quantize_price(Decimal(repr(price)), product, side)


def _full_size(
    sizer: PositionSizer, product: Product, price: Decimal, equity: Decimal, strategy_name: str, strength: float
) -> Decimal:
    """The size of a full position at `strength` confidence (the target's magnitude, the intent's fraction)."""
    confidence = Decimal(repr(min(abs(strength), 1.0)))
    request = PositionSizeRequest(
        product.product_id, price, equity, strategy_name, confidence=confidence, product=product
    )
    return sizer.calculate_position_size(request).size


def _affordable(change: Decimal, product: Product, spendable: Decimal, price: Decimal, fee_rate: Decimal) -> Decimal:
    """A spot purchase cut to the cash there is, fee included."""
    if change > 0 and not product.is_derivative:
        return min(change, max(spendable, Decimal(0)) / (price * (1 + fee_rate)))
    return change
