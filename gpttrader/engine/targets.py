"""From a strategy's target to the order that reaches it: the step the backtest, paper and live share.

The order is sized at the price it will execute at (the next open in a backtest, the quote live), with
the portfolio valued at `marks`; no order when the change is below the product's minimum size.
"""

from collections.abc import Mapping
from decimal import Decimal

from gpttrader.domain import OrderRequest, OrderType, Product, Side
from gpttrader.engine.portfolio import Portfolio
from gpttrader.engine.sizing import FixedFractionSizer


def order_for_target(
    *,
    client_order_id: str,
    product: Product,
    target: float,
    portfolio: Portfolio,
    marks: Mapping[str, Decimal],
    sizer: FixedFractionSizer,
    fee_rate: Decimal,
) -> OrderRequest | None:
    price = marks[product.product_id]
    delta = sizer.delta(
        product=product,
        target=target,
        current=portfolio.size(product.product_id),
        equity=portfolio.equity(dict(marks)),
        cash=portfolio.cash,
        price=price,
        fee_rate=fee_rate,
    )
    if delta == 0 or abs(delta) < product.base_min_size:
        return None
    return OrderRequest(
        client_order_id, product.product_id, Side.BUY if delta > 0 else Side.SELL, OrderType.MARKET, abs(delta)
    )
