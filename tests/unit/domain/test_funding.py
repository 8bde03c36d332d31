"""The one funding rule: who pays, and when an hour's funding reaches the balance (hourly for an INTX
perpetual; accrued hourly and settled at 00:00 and 12:00 UTC for a CFM perpetual-style future)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from gpttrader.domain import DomainError, Product, ProductType
from gpttrader.domain.funding import SETTLEMENT_HOURS_UTC, accrue_funding, funding_times, pays_funding
from tests.unit.products import PERP

EXPIRY = datetime(2030, 12, 20, 16, tzinfo=UTC)


def future(product_id: str, *, perpetual_style: bool) -> Product:
    return Product(
        product_id, "BTC", "USD", D(1), D(5), D(1), D(5000), D(0), ProductType.FUTURE, D("0.01"), EXPIRY,
        perpetual_style=perpetual_style,
    )  # fmt: skip


BIP = future("BIP-20DEC30-CDE", perpetual_style=True)
BIT = future("BIT-18DEC26-CDE", perpetual_style=False)


def test_perpetuals_and_perpetual_style_futures_pay_funding_monthly_futures_do_not() -> None:
    assert pays_funding(PERP)
    assert pays_funding(BIP)
    assert not pays_funding(BIT)


def test_only_a_future_can_be_perpetual_style() -> None:
    with pytest.raises(DomainError, match="only a FUTURE"):
        Product("X-PERP-INTX", "X", "USDC", D(1), D(1), D(1), D(9), D(0), ProductType.PERPETUAL, D(1),
                perpetual_style=True)  # fmt: skip


def test_a_perpetual_settles_every_hour_as_it_is_charged() -> None:
    accrued = D(0)
    settled = []
    for hour in funding_times(datetime(2026, 11, 24, 9, 30, tzinfo=UTC), datetime(2026, 11, 24, 12, 0, tzinfo=UTC)):
        accrued, now = accrue_funding(accrued, D("1.5"), PERP, hour)
        settled.append(now)
    assert settled == [D("1.5")] * 3
    assert accrued == 0


def test_a_perpetual_style_future_accrues_each_hour_and_settles_at_the_two_daily_times() -> None:
    assert SETTLEMENT_HOURS_UTC == (0, 12)
    start = datetime(2026, 11, 24, 0, 30, tzinfo=UTC)
    accrued, settlements = D(0), {}
    for hour in funding_times(start, start + timedelta(hours=24)):
        accrued, now = accrue_funding(accrued, D(1), BIP, hour)
        if now:
            settlements[hour] = now
    # Held into 01:00 .. 12:00 (12 hours) settled at noon; 13:00 .. 00:00 (12 more) at midnight.
    assert settlements == {datetime(2026, 11, 24, 12, tzinfo=UTC): D(12), datetime(2026, 11, 25, 0, tzinfo=UTC): D(12)}
    assert accrued == 0


def test_between_settlements_the_funding_stays_accrued_whatever_its_sign() -> None:
    accrued, settled = accrue_funding(D("-2"), D("0.5"), BIP, datetime(2026, 11, 24, 7, tzinfo=UTC))
    assert (accrued, settled) == (D("-1.5"), D(0))
    accrued, settled = accrue_funding(accrued, D("-0.5"), BIP, datetime(2026, 11, 24, 12, tzinfo=UTC))
    assert (accrued, settled) == (D(0), D("-2"))
