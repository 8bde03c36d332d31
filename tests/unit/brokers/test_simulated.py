from decimal import Decimal

import pytest

from gpttrader.brokers.simulated import FeeSchedule, synthetic_book
from gpttrader.domain import DomainError, Liquidity, Product, Side


def test_fees() -> None:
    fees = FeeSchedule()
    assert fees.fee(Decimal("1000"), Liquidity.TAKER) == Decimal("6.000")
    assert fees.fee(Decimal("1000"), Liquidity.MAKER) == Decimal("4.000")
    with pytest.raises(DomainError, match="maker must be >= 0"):
        FeeSchedule(maker=Decimal("-0.001"))


@pytest.mark.parametrize("side", list(Side))
def test_book_is_on_the_grid_ordered_and_thickens(btc: Product, side: Side) -> None:
    mid = Decimal("95000.005")
    book = synthetic_book(btc, mid, side, levels=10)
    prices = [level.price for level in book]
    assert len(book) == 10
    assert all(p % btc.quote_increment == 0 for p in prices)
    assert all(level.size % btc.base_increment == 0 for level in book)
    assert all(level.size > 0 for level in book)
    if side is Side.BUY:
        assert prices == sorted(prices, reverse=True)
        assert prices[0] < mid
    else:
        assert prices == sorted(prices)
        assert prices[0] > mid
    notionals = [level.price * level.size for level in book]
    assert notionals[-1] > notionals[0]


def test_book_on_a_coarse_grid_never_collapses_levels(btc_future: Product) -> None:
    asks = synthetic_book(btc_future, Decimal("95000"), Side.SELL, levels=5)
    prices = [level.price for level in asks]
    assert len(set(prices)) == len(prices)
