"""A synthetic order book around a mid price, for fills that walk the book instead of filling at one price.

Levels are one tick-spaced step apart beyond a half spread, and each holds a fixed notional that grows
with distance from the mid, which is the shape real books have on liquid crypto pairs: thin at the
touch, thicker further out. A market order larger than the touch therefore pays up (partial fills at
worse prices), and one larger than the whole book is only partly filled.
"""

from decimal import Decimal

from gpttrader.domain import BookLevel, Product, Side
from gpttrader.domain.quantize import quantize_price, quantize_size


def synthetic_book(
    product: Product,
    mid: Decimal,
    side: Side,
    *,
    levels: int = 20,
    half_spread_bps: Decimal = Decimal("1"),
    step_bps: Decimal = Decimal("1"),
    notional_per_level: Decimal = Decimal("20000"),
) -> list[BookLevel]:
    """The `side` of the book (BUY: bids, best first; SELL: asks, best first)."""
    book: list[BookLevel] = []
    for i in range(levels):
        offset = mid * (half_spread_bps + step_bps * i) / Decimal(10_000)
        offset = max(offset, product.quote_increment * (i + 1))
        # Bids round down and asks round up: a quote is never better than the model says.
        price = (
            quantize_price(mid - offset, product, Side.BUY)
            if side is Side.BUY
            else quantize_price(mid + offset, product, Side.SELL)
        )
        if price <= 0:
            break
        size = quantize_size(notional_per_level * (1 + Decimal(i) / 4) / (price * product.multiplier), product)
        if size > 0:
            book.append(BookLevel(price, size))
    return book
