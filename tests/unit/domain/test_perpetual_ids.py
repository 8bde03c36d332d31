"""One id-based rule for perpetuals (gpttrader.domain.symbols.is_perpetual_id), for when only an id is known:
the profile's symbols and the Coinbase broker's pre-send check answer alike, and the rule agrees with the
product types of a listing."""

from datetime import UTC, datetime
from typing import Any

import pytest

from gpttrader.brokers.coinbase.broker import CoinbaseBroker
from gpttrader.brokers.errors import InvalidOrderError
from gpttrader.config import ConfigError, load_config
from gpttrader.domain import ProductType
from gpttrader.domain.symbols import is_perpetual_id
from gpttrader.sandbox.catalog import build_catalog


@pytest.mark.parametrize(
    ("product_id", "perpetual"),
    [
        ("BTC-PERP-INTX", True),
        ("ETH-PERP-INTX", True),
        ("BTC-USD", False),
        ("PERP-USD", False),  # Perpetual Protocol's token, a spot product
        ("BIP-20DEC30-CDE", False),  # a CFM future
    ],
)
def test_the_id_rule(product_id: str, perpetual: bool) -> None:
    assert is_perpetual_id(product_id) is perpetual


def test_the_id_rule_agrees_with_a_listings_product_types() -> None:
    products = [listing.product for listing in build_catalog(datetime(2025, 6, 2, tzinfo=UTC)).values()]
    assert any(p.product_type is ProductType.PERPETUAL for p in products)
    disagree = [
        p.product_id for p in products if is_perpetual_id(p.product_id) != (p.product_type is ProductType.PERPETUAL)
    ]
    assert not disagree


class _Reached(Exception):
    """The broker went past its derivatives check to ask the venue."""


def _broker() -> CoinbaseBroker:
    broker = CoinbaseBroker(object())  # type: ignore[arg-type]

    def read(*args: Any, **kwargs: Any) -> Any:
        raise _Reached

    broker._read = read  # type: ignore[method-assign]
    return broker


def _refusal(overrides: dict[str, Any], env: dict[str, str]) -> str:
    """Why the dev profile with `overrides` is refused ("" when it loads): PERP-USD lacks its risk limits."""
    try:
        load_config("dev", overrides=overrides, env=env)
    except ConfigError as exc:
        return str(exc)
    return ""


@pytest.mark.parametrize("product_id", ["BTC-PERP-INTX", "ETH-USD", "PERP-USD"])
def test_the_profile_and_the_broker_refuse_the_same_ids(product_id: str, clean_env: dict[str, str]) -> None:
    overrides = {"symbols": ["BTC-USD", product_id]}  # the dev profile sizes BTC-USD
    if is_perpetual_id(product_id):
        with pytest.raises(ConfigError, match="perpetuals: set COINBASE_ENABLE_DERIVATIVES=1"):
            load_config("dev", overrides=overrides, env=clean_env)
        with pytest.raises(InvalidOrderError, match="COINBASE_ENABLE_DERIVATIVES=1") as refused:
            _broker().quote(product_id)
        assert refused.value.reason == "DERIVATIVES_DISABLED"
    else:
        assert "perpetual" not in _refusal(overrides, clean_env)
        with pytest.raises(_Reached):
            _broker().quote(product_id)
