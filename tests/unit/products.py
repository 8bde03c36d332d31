"""Products the unit tests share (brokers, backtest, engine). A helper module, not a test module: import it."""

from decimal import Decimal as D

from gpttrader.domain import Product, ProductType

PERP = Product(
    "BTC-PERP-INTX",
    "BTC",
    "USDC",
    D("0.0001"),
    D("0.1"),
    D("0.0001"),
    D(1000),
    D(10),
    ProductType.PERPETUAL,
    contract_size=D(1),
)
