"""Product ids as people type them, made Coinbase's: the one normalization every entry point uses (profile
`symbols`, the command line's `--product`, notebook parameters, the panel).

`btc-usd`, `BTC/USD`, `btc_usd`, ` BTC USD ` and `BTCUSD` are all `BTC-USD`. A run of letters and digits
with no separator is split before the longest known quote currency it ends with (`ETHUSDC` is `ETH-USDC`,
not `ETHU-SDC`); perpetuals (`BTC-PERP-INTX`) and CFM futures (`BIP-20DEC30-CDE`) keep their form, in upper
case. Only the form is checked here (no network): whether a product is listed is known where the listing
is, and `require_listed` refuses an unknown one naming the nearest listed ids.
"""

import difflib
import re
from collections.abc import Collection, Iterable

# Quote currencies Coinbase lists spot products in; the longest match wins (USDC before USD).
QUOTE_CURRENCIES: tuple[str, ...] = ("USDC", "USDT", "USD", "EUR", "GBP", "BTC", "ETH", "DAI", "SOL")
PRODUCT_ID = re.compile(r"^[A-Z0-9]{2,10}-[A-Z0-9]{2,10}(-[A-Z0-9]{2,10})*$")
_SEPARATORS = re.compile(r"[\s/_\-:.]+")
_QUOTES_LONGEST_FIRST = sorted(QUOTE_CURRENCIES, key=len, reverse=True)
EXAMPLES = "BTC-USD, btc/usd, BTCUSD, BTC-PERP-INTX or BIP-20DEC30-CDE"


class SymbolError(ValueError):
    """A symbol that is not a product id in any accepted form, or one the venue does not list."""

    def __init__(self, message: str, value: object = None) -> None:
        super().__init__(message)
        self.value = value


def normalize_symbol(text: str) -> str:
    """The canonical product id (`BTC-USD`) of a symbol in any accepted form; SymbolError otherwise."""
    if not isinstance(text, str):
        raise SymbolError(f"{text!r} is not a product id like {EXAMPLES}", text)
    parts = [part for part in _SEPARATORS.split(text.strip().upper()) if part]
    if len(parts) == 1:
        parts = _split_concatenated(parts[0])
    candidate = "-".join(parts)
    if not PRODUCT_ID.match(candidate):
        raise SymbolError(f"{text!r} is not a product id like {EXAMPLES}", text)
    return candidate


def _split_concatenated(word: str) -> list[str]:
    for quote in _QUOTES_LONGEST_FIRST:
        if word.endswith(quote) and len(word) - len(quote) >= 2:
            return [word[: -len(quote)], quote]
    return [word]


def normalize_symbols(texts: Iterable[str]) -> tuple[str, ...]:
    """Each symbol normalized, in order; a repeat (after normalizing: `btc-usd` and `BTCUSD`) is refused."""
    result: list[str] = []
    for text in texts:
        symbol = normalize_symbol(text)
        if symbol in result:
            raise SymbolError(f"{text!r} repeats {symbol}", text)
        result.append(symbol)
    return tuple(result)


def is_perpetual_id(product_id: str) -> bool:
    """Whether `product_id` names an INTX perpetual by its form alone (`BTC-PERP-INTX`: PERP after the base).

    The config-time rule, for where only an id is known: a profile's symbols, checked before any listing is
    read, and the broker's refusal before it asks the venue. Where a `Product` is at hand its `product_type`
    is the answer, not this."""
    return product_id.split("-")[1:2] == ["PERP"]


def nearest(symbol: str, listed: Collection[str], count: int = 3) -> list[str]:
    """The listed ids closest to `symbol` (difflib's ratio), best first; none when nothing is close."""
    return difflib.get_close_matches(symbol, sorted(listed), n=count, cutoff=0.5)


def unknown_message(symbol: str, listed: Collection[str], where: str) -> str:
    close = nearest(symbol, listed)
    hint = f"nearest listed: {', '.join(close)}" if close else f"none of the {len(listed)} listed is close"
    return f"{symbol} is not listed by {where}; {hint}"


def require_listed(symbols: Iterable[str], listed: Collection[str], *, where: str) -> None:
    """Refuse (SymbolError) the first of `symbols` not in `listed`, naming the nearest listed ids; `where`
    says whose listing it is ("the exchange", "the sample data")."""
    for symbol in symbols:
        if symbol not in listed:
            raise SymbolError(unknown_message(symbol, listed, where), symbol)
