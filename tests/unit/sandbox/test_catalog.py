from datetime import UTC, datetime

from gpttrader.domain import ProductType
from gpttrader.sandbox.catalog import build_catalog, futures_expiries, last_friday


def test_last_friday_and_expiries() -> None:
    assert last_friday(2026, 11) == datetime(2026, 11, 27, 16, tzinfo=UTC)
    assert futures_expiries(datetime(2026, 11, 24, tzinfo=UTC)) == [
        datetime(2026, 11, 27, 16, tzinfo=UTC),
        datetime(2026, 12, 25, 16, tzinfo=UTC),
    ]
    # Within a day of expiry, the next month's contract is listed instead.
    assert futures_expiries(datetime(2026, 11, 27, tzinfo=UTC))[0] == datetime(2026, 12, 25, 16, tzinfo=UTC)


def test_catalog_has_spot_futures_and_perpetuals() -> None:
    catalog = build_catalog(datetime(2026, 11, 24, tzinfo=UTC))
    kinds = [listing.product.product_type for listing in catalog.values()]
    assert kinds.count(ProductType.SPOT) == 10
    assert kinds.count(ProductType.FUTURE) == 6  # two months of BTC and ETH, and the nano perpetual-style pair
    assert {pid for pid, listing in catalog.items() if listing.product.perpetual_style} == {
        "BIP-20DEC30-CDE",
        "ETP-20DEC30-CDE",
    }
    assert kinds.count(ProductType.PERPETUAL) == 2
    assert "BIT-27NOV26-CDE" in catalog
    assert catalog["BIT-27NOV26-CDE"].product.contract_size is not None
