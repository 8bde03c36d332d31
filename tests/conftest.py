"""Fixtures shared by the whole suite."""

import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from gpttrader.domain import Product, ProductType

# Variables that change what load_config() resolves; tests start from none of them set.
CONFIG_VARIABLES = (
    "GPTTRADER_PROFILE",
    "PERPS_PAPER",
    "SPOT_FORCE_LIVE",
    "COINBASE_ENABLE_DERIVATIVES",
    "COINBASE_SANDBOX_URL",
    "COINBASE_SANDBOX_CERT",
    "GPTTRADER_LOG_LEVEL",
    "GPTTRADER_DATA_DIR",
    "COINBASE_API_KEY",
    "COINBASE_API_SECRET",
    "COINBASE_KEY_FILE",
    "GPTTRADER_ALERT_WEBHOOK_URL",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """os.environ without gpttrader's variables, with state under a temporary data dir."""
    for name in CONFIG_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GPTTRADER_DATA_DIR", str(tmp_path / "data"))
    return dict(os.environ)


@pytest.fixture
def btc() -> Product:
    return Product(
        product_id="BTC-USD",
        base_currency="BTC",
        quote_currency="USD",
        base_increment=Decimal("0.00000001"),
        quote_increment=Decimal("0.01"),
        base_min_size=Decimal("0.00001"),
        base_max_size=Decimal("3400"),
        quote_min_size=Decimal("1"),
    )


@pytest.fixture
def btc_future() -> Product:
    return Product(
        product_id="BIT-27DEC26-CDE",
        base_currency="BTC",
        quote_currency="USD",
        base_increment=Decimal("1"),
        quote_increment=Decimal("5"),
        base_min_size=Decimal("1"),
        base_max_size=Decimal("1000"),
        quote_min_size=Decimal("0"),
        product_type=ProductType.FUTURE,
        contract_size=Decimal("0.01"),
        expiry=datetime(2026, 12, 27, 16, tzinfo=UTC),
    )
