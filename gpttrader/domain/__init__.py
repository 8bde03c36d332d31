"""Frozen value types of the trading domain, with Decimal money and no I/O."""

from gpttrader.domain.account import Balance, Position, roll_position
from gpttrader.domain.enums import (
    Granularity,
    Liquidity,
    MarketRegime,
    OrderStatus,
    OrderType,
    ProductType,
    Side,
    TimeInForce,
)
from gpttrader.domain.errors import DomainError, OrderRejected
from gpttrader.domain.market import BookLevel, Candle, OrderBook, Quote
from gpttrader.domain.orders import Fill, Order, OrderRequest, PreparedOrder
from gpttrader.domain.products import Product
from gpttrader.domain.quantize import prepare_order, quantize_price, quantize_size

__all__ = [
    "Balance",
    "BookLevel",
    "Candle",
    "DomainError",
    "Fill",
    "Granularity",
    "Liquidity",
    "MarketRegime",
    "Order",
    "OrderBook",
    "OrderRejected",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "Position",
    "PreparedOrder",
    "Product",
    "ProductType",
    "Quote",
    "Side",
    "TimeInForce",
    "prepare_order",
    "quantize_price",
    "quantize_size",
    "roll_position",
]
