"""The sandbox's products: the ten dev spot markets, CFM futures with expiries, CFM perpetual-style
futures and INTX perpetuals."""

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from gpttrader.domain import Product, ProductType


@dataclass(frozen=True, slots=True)
class Listing:
    """A product with what the sandbox needs to quote it: a starting price level, a name and a venue."""

    product: Product
    start_price: float
    base_name: str
    venue: str
    contract_code: str = ""
    display_name: str = ""

    @property
    def product_id(self) -> str:
        return self.product.product_id


_SPOT = (
    # id, name, price, base_increment, quote_increment, base_min_size
    ("BTC", "Bitcoin", 95000.0, "0.00000001", "0.01", "0.00001"),
    ("ETH", "Ethereum", 3500.0, "0.00000001", "0.01", "0.0001"),
    ("SOL", "Solana", 180.0, "0.00000001", "0.01", "0.001"),
    ("XRP", "XRP", 2.2, "0.000001", "0.0001", "1"),
    ("LTC", "Litecoin", 100.0, "0.00000001", "0.01", "0.01"),
    ("ADA", "Cardano", 0.9, "0.00000001", "0.0001", "1"),
    ("DOGE", "Dogecoin", 0.35, "0.1", "0.00001", "1"),
    ("BCH", "Bitcoin Cash", 450.0, "0.00000001", "0.01", "0.001"),
    ("AVAX", "Avalanche", 40.0, "0.00000001", "0.01", "0.01"),
    ("LINK", "Chainlink", 22.0, "0.01", "0.001", "0.1"),
)


# Coinbase's US perpetual-style futures (listed July 2025): nano BTC and nano ETH, one five-year expiry.
PERPETUAL_STYLE_EXPIRY = datetime(2030, 12, 20, 16, tzinfo=UTC)
PERPETUAL_STYLE = (
    # code, base, price, contract size, price increment
    ("BIP", "BTC", 95000.0, "0.01", "5"),
    ("ETP", "ETH", 3500.0, "0.1", "0.5"),
)


def last_friday(year: int, month: int) -> datetime:
    day = max(week[calendar.FRIDAY] for week in calendar.monthcalendar(year, month))
    return datetime(year, month, day, 16, tzinfo=UTC)


def futures_expiries(today: datetime) -> list[datetime]:
    """The next two monthly expiries (last Friday, 16:00 UTC) after `today`."""
    expiries: list[datetime] = []
    year, month = today.year, today.month
    while len(expiries) < 2:
        expiry = last_friday(year, month)
        if expiry > today + timedelta(days=1):
            expiries.append(expiry)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return expiries


def build_catalog(today: datetime) -> dict[str, Listing]:
    listings: list[Listing] = []
    for base, name, price, base_inc, quote_inc, base_min in _SPOT:
        product = Product(
            product_id=f"{base}-USD",
            base_currency=base,
            quote_currency="USD",
            base_increment=Decimal(base_inc),
            quote_increment=Decimal(quote_inc),
            base_min_size=Decimal(base_min),
            base_max_size=Decimal("1000000000"),
            quote_min_size=Decimal("1"),
        )
        listings.append(Listing(product, price, name, "CBE", display_name=product.product_id))
    for expiry in futures_expiries(today):
        for code, base, price, contract, tick in (
            ("BIT", "BTC", 95000.0, "0.01", "5"),
            ("ET", "ETH", 3500.0, "0.1", "0.5"),
        ):
            product = _cfm_future(code, base, contract, tick, expiry)
            listings.append(Listing(product, price, "", "FCM", code, f"{base} {expiry:%d %b %y}"))
    for code, base, price, contract, tick in PERPETUAL_STYLE:
        product = _cfm_future(code, base, contract, tick, PERPETUAL_STYLE_EXPIRY, perpetual_style=True)
        listings.append(Listing(product, price, "", "FCM", code, f"{base} PERP"))
    for base, price, tick in (("BTC", 95000.0, "0.1"), ("ETH", 3500.0, "0.01")):
        product = Product(
            product_id=f"{base}-PERP-INTX",
            base_currency=base,
            quote_currency="USDC",
            base_increment=Decimal("0.0001"),
            quote_increment=Decimal(tick),
            base_min_size=Decimal("0.0001"),
            base_max_size=Decimal(1000),
            quote_min_size=Decimal(10),
            product_type=ProductType.PERPETUAL,
            contract_size=Decimal(1),
        )
        listings.append(Listing(product, price, "", "INTX", f"{base}-PERP", f"{base} PERP"))
    return {listing.product_id: listing for listing in listings}


def _cfm_future(
    code: str, base: str, contract: str, tick: str, expiry: datetime, *, perpetual_style: bool = False
) -> Product:
    """A CFM future (monthly or perpetual-style: the same contract terms, a five-year expiry for the latter)."""
    return Product(
        product_id=f"{code}-{expiry:%d%b%y}-CDE".upper(),
        base_currency=base,
        quote_currency="USD",
        base_increment=Decimal(1),
        quote_increment=Decimal(tick),
        base_min_size=Decimal(1),
        base_max_size=Decimal(5000),
        quote_min_size=Decimal(0),
        product_type=ProductType.FUTURE,
        contract_size=Decimal(contract),
        expiry=expiry,
        perpetual_style=perpetual_style,
    )
