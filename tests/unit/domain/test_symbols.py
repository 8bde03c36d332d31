"""Symbols as people type them become Coinbase's product ids, in one place; an unknown one is refused naming
the nearest listed ids."""

import pytest

from gpttrader.domain.symbols import SymbolError, nearest, normalize_symbol, normalize_symbols, require_listed

LISTED = ["BTC-USD", "BTC-USDC", "ETH-USD", "SOL-USD", "BTC-PERP-INTX", "BIP-20DEC30-CDE"]


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("BTC-USD", "BTC-USD"),
        ("btc-usd", "BTC-USD"),
        ("BTC/USD", "BTC-USD"),
        ("BTCUSD", "BTC-USD"),
        ("btcusd", "BTC-USD"),
        (" btc_usd ", "BTC-USD"),
        ("btc usd", "BTC-USD"),
        ("ETHUSDC", "ETH-USDC"),  # the longest quote wins: not ETHU-SDC, not ETHUSD-C
        ("solusdt", "SOL-USDT"),
        ("ETHBTC", "ETH-BTC"),
        ("usdcusd", "USDC-USD"),
        ("ethEUR", "ETH-EUR"),
        ("btc-perp-intx", "BTC-PERP-INTX"),
        ("BIP-20DEC30-CDE", "BIP-20DEC30-CDE"),
        ("bip-20dec30-cde", "BIP-20DEC30-CDE"),
    ],
)
def test_every_form_becomes_the_product_id(typed: str, canonical: str) -> None:
    assert normalize_symbol(typed) == canonical


@pytest.mark.parametrize("typed", ["btc", "", "  ", "BTC-", "B-USD", "BTC--", "USD", "BTC-USD!", "XBTUSDUSDXBTUSD"])
def test_what_is_no_product_id_is_refused_with_the_accepted_forms(typed: str) -> None:
    with pytest.raises(SymbolError, match=r"is not a product id like BTC-USD, btc/usd, BTCUSD, BTC-PERP-INTX"):
        normalize_symbol(typed)


def test_a_repeat_after_normalizing_is_refused() -> None:
    assert normalize_symbols(["btc-usd", "ETH/USD"]) == ("BTC-USD", "ETH-USD")
    with pytest.raises(SymbolError, match="'BTCUSD' repeats BTC-USD"):
        normalize_symbols(["btc-usd", "BTCUSD"])


def test_an_unlisted_symbol_is_refused_naming_the_nearest_listed() -> None:
    require_listed(["BTC-USD", "BTC-PERP-INTX"], LISTED, where="the exchange")
    with pytest.raises(SymbolError) as refused:
        require_listed(["BTC-USD", "XBT-USD"], LISTED, where="the exchange")
    assert str(refused.value) == "XBT-USD is not listed by the exchange; nearest listed: BTC-USD, BTC-USDC, ETH-USD"
    assert refused.value.value == "XBT-USD"
    assert nearest("ETH-USDD", LISTED)[0] == "ETH-USD"
    with pytest.raises(SymbolError, match=r"QQQQ-ZZZ is not listed by the exchange; none of the 6 listed is close"):
        require_listed(["QQQQ-ZZZ"], LISTED, where="the exchange")
