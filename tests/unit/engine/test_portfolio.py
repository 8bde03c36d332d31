from datetime import UTC, datetime
from decimal import Decimal as D

from gpttrader.domain import Fill, Liquidity, Product, Side
from gpttrader.engine.portfolio import Portfolio

T = datetime(2026, 1, 1, tzinfo=UTC)


def fill(side: Side, size: str, price: str, fee: str = "0", product_id: str = "BTC-USD") -> Fill:
    return Fill(f"t-{side}-{size}-{price}", "c", product_id, side, D(price), D(size), D(fee), Liquidity.TAKER, T)


def test_spot_round_trip(btc: Product) -> None:
    book = Portfolio(cash=D(1000))
    book.apply(fill(Side.BUY, "2", "100", "1.2"), btc)
    assert book.cash == D("798.8")
    assert book.equity({"BTC-USD": D(110)}) == D("1018.8")
    book.apply(fill(Side.BUY, "2", "110", "1.32"), btc)
    assert book.holdings["BTC-USD"].entry_price == D(105)
    realized = book.apply(fill(Side.SELL, "4", "120", "2.88"), btc)
    assert realized == D(60)
    assert book.size("BTC-USD") == 0
    assert book.cash == D(1000) + D(60) - D("1.2") - D("1.32") - D("2.88")
    assert book.fees_paid == D("5.40")


def test_future_short_then_flip(btc_future: Product) -> None:
    book = Portfolio(cash=D(10_000))
    book.apply(fill(Side.SELL, "3", "95000", "17.1", btc_future.product_id), btc_future)
    assert book.cash == D(10_000) - D("17.1")  # no notional moves for a future
    assert book.equity({btc_future.product_id: D(94000)}) == D(10_000) - D("17.1") + D(30)
    realized = book.apply(fill(Side.BUY, "5", "94000", "28.2", btc_future.product_id), btc_future)
    assert realized == D(30)  # 3 contracts x 0.01 BTC x 1000
    holding = book.holdings[btc_future.product_id]
    assert (holding.size, holding.entry_price) == (D(2), D(94000))
    assert holding.position(D(94500)).unrealized_pnl == D(10)
