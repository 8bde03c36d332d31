"""From a strategy's target to the order that reaches it: the step the backtest, paper and live share.

The order is sized at the price it will execute at (the next open in a backtest, the quote live), with
the portfolio valued at `marks`. The target's magnitude is the signal's confidence, its sign the side;
the sizer (any of the risk layer's) says how large a full-confidence position is. Buying spot never spends
more cash than there is, fee included, so all-in from flat is cash / (price x (1 + fee)). No order when
the change is below the product's minimum size.
"""

from collections.abc import Mapping
from decimal import Decimal

from gpttrader.domain import OrderRequest, OrderType, Product, Side
from gpttrader.domain.quantize import quantize_size
from gpttrader.engine.portfolio import Portfolio
from gpttrader.risk import PositionSizer, PositionSizeRequest


def order_for_target(
    *,
    client_order_id: str,
    product: Product,
    target: float,
    portfolio: Portfolio,
    marks: Mapping[str, Decimal],
    equity: Decimal,
    sizer: PositionSizer,
    fee_rate: Decimal,
    strategy_name: str = "",
) -> OrderRequest | None:
    price = marks[product.product_id]
    wanted = Decimal(0)
    if target:
        request = PositionSizeRequest(
            product.product_id, price, equity, strategy_name, confidence=Decimal(repr(min(abs(target), 1.0)))
        )
        size = sizer.calculate_position_size(request).size
        wanted = size if target > 0 else -size
    change = wanted - portfolio.size(product.product_id)
    if change > 0 and not product.is_derivative:
        change = min(change, portfolio.cash / (price * (1 + fee_rate)))
    size = quantize_size(abs(change), product)
    if size == 0 or size < product.base_min_size:
        return None
    return OrderRequest(
        client_order_id, product.product_id, Side.BUY if change > 0 else Side.SELL, OrderType.MARKET, size
    )
