"""The profile's symbols met with what the venue lists, at the bot's start: each product read, and one the
venue does not know refused naming the nearest ids it lists (the configuration could only check the form)."""

from collections.abc import Iterable
from typing import Protocol

from gpttrader.brokers.errors import NotFoundError
from gpttrader.config import ConfigError
from gpttrader.domain import Product
from gpttrader.domain.symbols import unknown_message


class UnlistedSymbolError(ConfigError):
    """A configured symbol the venue does not list; the message names the nearest listed ids."""


class Listing(Protocol):
    def product(self, product_id: str) -> Product: ...

    def products(self) -> list[Product]: ...


def listed_products(
    venue: Listing, symbols: Iterable[str], *, where: str = "the exchange", field: str = "symbols"
) -> dict[str, Product]:
    """Each symbol's product. The whole listing is read only when one is not found (futures are listed only
    when asked for, so a product is first asked for by its id); the refusal names `field`, where the symbol
    came from."""
    found: dict[str, Product] = {}
    for symbol in symbols:
        try:
            found[symbol] = venue.product(symbol)
        except NotFoundError:
            listed = {p.product_id for p in venue.products()}
            raise UnlistedSymbolError(f"{field}: {unknown_message(symbol, listed, where)}") from None
    return found
