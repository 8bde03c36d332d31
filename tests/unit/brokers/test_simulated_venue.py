"""The simulated exchange account behind the dev and paper brokers, and the deterministic broker."""

import contextlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from gpttrader.brokers.errors import InsufficientFundsError, InvalidOrderError, NotFoundError
from gpttrader.brokers.simulated import FeeSchedule, FillModel
from gpttrader.brokers.simulated.market import PricePathMarket
from gpttrader.brokers.simulated.paper import PaperBroker
from gpttrader.brokers.simulated.venue import SimulatedVenue, VenueState
from gpttrader.domain import (
    Candle,
    Granularity,
    Liquidity,
    OrderRequest,
    OrderStatus,
    OrderType,
    Product,
    ProductType,
    Quote,
    Side,
    TimeInForce,
)
from gpttrader.store import Database
from gpttrader.store.venue import VenueStore
from tests.unit.products import PERP

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
MODEL = FillModel(fees=FeeSchedule(maker=D("0.004"), taker=D("0.006")))


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def venue(btc: Product, clock: Clock, usd: str = "10000") -> SimulatedVenue:
    return SimulatedVenue({"BTC-USD": btc}, MODEL, VenueState({"USD": D(usd)}), clock)


def quote(price: str, at: datetime = T0) -> Quote:
    return Quote("BTC-USD", D(price), D(price), D(price), at)


def order(cid: str, side: Side, size: str, kind: OrderType = OrderType.MARKET, **prices: D) -> OrderRequest:
    return OrderRequest(cid, "BTC-USD", side, kind, D(size), **prices)  # type: ignore[arg-type]


def bar(at: datetime, o: str, h: str, low: str, c: str) -> Candle:
    return Candle("BTC-USD", at, D(o), D(h), D(low), D(c), D(100))


def balances(v: SimulatedVenue) -> dict[str, tuple[D, D]]:
    return {b.currency: (b.available, b.hold) for b in v.balances()}


def test_a_market_buy_fills_at_the_quote_as_taker(btc: Product) -> None:
    v = venue(btc, Clock(T0))
    placed = v.place(order("a", Side.BUY, "0.1"), quote("50000"))
    assert (placed.status, placed.filled_size, placed.average_filled_price) == (OrderStatus.FILLED, D("0.1"), D(50000))
    [fill] = v.fills()
    assert (fill.price, fill.fee, fill.liquidity, fill.order_id) == (D(50000), D(30), Liquidity.TAKER, placed.order_id)
    assert balances(v) == {"BTC": (D("0.1"), 0), "USD": (D(10000) - D(5000) - D(30), 0)}


def test_a_resting_limit_holds_funds_and_fills_at_its_limit_on_a_later_bar(btc: Product) -> None:
    clock = Clock(T0)
    v = venue(btc, clock)
    placed = v.place(order("b", Side.BUY, "0.1", OrderType.LIMIT, limit_price=D(49000)), quote("50000"))
    assert placed.status is OrderStatus.OPEN
    assert balances(v)["USD"] == (D(10000) - D(4900) * D("1.006"), D(4900) * D("1.006"))
    v.work(bar(T0 - timedelta(minutes=5), "50000", "50000", "48000", "49500"))  # ended before the order
    assert v.order(placed.order_id or "").status is OrderStatus.OPEN
    clock.at = T0 + timedelta(minutes=2)
    v.work(bar(T0 + timedelta(minutes=1), "49800", "49900", "48900", "49100"))
    done = v.order(placed.order_id or "")
    assert (done.status, done.average_filled_price) == (OrderStatus.FILLED, D(49000))
    assert v.fills()[0].liquidity is Liquidity.MAKER
    assert balances(v) == {"BTC": (D("0.1"), 0), "USD": (D(10000) - D(4900) - D("19.6"), 0)}


def test_funds_client_ids_ioc_and_cancel(btc: Product) -> None:
    v = venue(btc, Clock(T0), usd="1000")
    with pytest.raises(InsufficientFundsError, match="needs"):
        v.place(order("c", Side.BUY, "0.1"), quote("50000"))
    with pytest.raises(InsufficientFundsError):
        v.place(order("d", Side.SELL, "0.1"), quote("50000"))  # no BTC to sell
    with pytest.raises(InvalidOrderError, match="below the minimum"):
        v.place(order("e", Side.BUY, "0.000001"), quote("50000"))
    first = v.place(order("f", Side.BUY, "0.01", OrderType.LIMIT, limit_price=D(40000)), quote("50000"))
    assert v.place(order("f", Side.BUY, "0.01", OrderType.LIMIT, limit_price=D(40000)), quote("50000")) == first
    ioc = OrderRequest("g", "BTC-USD", Side.BUY, OrderType.LIMIT, D("0.01"), D(40000), time_in_force=TimeInForce.IOC)
    assert v.place(ioc, quote("50000")).status is OrderStatus.CANCELLED
    assert v.cancel([first.order_id or "", "nope"]) == {first.order_id: True, "nope": False}
    assert balances(v)["USD"] == (D(1000), 0)  # the hold is released
    with pytest.raises(NotFoundError):
        v.order("nope")


def test_a_stop_limit_triggers_on_the_range(btc: Product) -> None:
    clock = Clock(T0)
    v = venue(btc, clock)
    stop = order("h", Side.BUY, "0.01", OrderType.STOP_LIMIT, stop_price=D(51000), limit_price=D(51500))
    placed = v.place(stop, quote("50000"))
    clock.at = T0 + timedelta(minutes=1)
    v.work(bar(T0, "50000", "51200", "49900", "51100"))
    assert v.order(placed.order_id or "").average_filled_price == D(51000)


def path(start: datetime, prices: list[str]) -> list[Candle]:
    return [bar(start + timedelta(minutes=i), p, p, p, p) for i, p in enumerate(prices)]


def dev_broker(btc: Product, candles: list[Candle], clock: Clock, **extra: Any) -> PaperBroker:
    """The deterministic broker: the paper broker on a fixed price path."""
    market = PricePathMarket({"BTC-USD": btc}, {"BTC-USD": candles}, clock)
    return PaperBroker(market, {"BTC-USD": btc}, clock, balances={"USD": D(10000)}, **extra)


def test_the_deterministic_broker_quotes_the_open_and_serves_closed_bars(btc: Product) -> None:
    clock = Clock(T0 + timedelta(minutes=2, seconds=30))
    candles = path(T0, ["100", "101", "102", "103", "104"])
    broker = dev_broker(btc, candles, clock)
    assert broker.quote("BTC-USD").ask == D(102)  # the bar the clock is in
    served = broker.candles("BTC-USD", Granularity.ONE_MINUTE, T0, T0 + timedelta(hours=1))
    assert [c.close for c in served] == [D(100), D(101)]  # the 12:02 bar is still open
    placed = broker.place_order(order("i", Side.BUY, "1", OrderType.LIMIT, limit_price=D("103.5")))
    assert placed.status is OrderStatus.FILLED  # marketable at the open of 12:02
    resting = broker.place_order(order("j", Side.SELL, "1", OrderType.LIMIT, limit_price=D("103.5")))
    clock.at = T0 + timedelta(minutes=4, seconds=1)
    assert broker.get_order(resting.order_id or "").status is OrderStatus.OPEN  # 12:03 closed at 103
    clock.at = T0 + timedelta(minutes=5)
    assert broker.get_order(resting.order_id or "").status is OrderStatus.FILLED  # 12:04 reached 104
    clock.at = T0 + timedelta(minutes=6)
    with pytest.raises(Exception, match="the price path covers"):
        broker.quote("BTC-USD")


def test_wider_bars_are_built_from_the_paths_minutes_once_closed(btc: Product) -> None:
    prices = [bar(T0 + timedelta(minutes=i), str(100 + i), str(105 + i), str(95 + i), str(101 + i)) for i in range(12)]
    clock = Clock(T0 + timedelta(minutes=11, seconds=30))  # 12:10 closed, 12:11 forming
    broker = dev_broker(btc, prices, clock)
    served = broker.candles("BTC-USD", Granularity.FIVE_MINUTE, T0, T0 + timedelta(hours=1))
    assert [c.time for c in served] == [T0, T0 + timedelta(minutes=5)]  # 12:10-12:15 has not closed
    first = served[0]
    assert (first.open, first.high, first.low, first.close, first.volume) == (
        D(100),
        D(109),
        D(95),
        D(105),
        sum((c.volume for c in prices[:5]), D(0)),
    )
    # A window starting inside a bucket gets the buckets starting in it, as Coinbase answers
    later = broker.candles("BTC-USD", Granularity.FIVE_MINUTE, T0 + timedelta(minutes=3), T0 + timedelta(hours=1))
    assert [c.time for c in later] == [T0 + timedelta(minutes=5)]


def test_same_clock_same_orders_same_fills_and_the_books_survive(btc: Product, tmp_path: Path) -> None:
    candles = path(T0, [str(100 + i % 7) for i in range(30)])
    runs = []
    for name in ("one", "two"):
        clock = Clock(T0 + timedelta(seconds=30))
        books = VenueStore(Database(tmp_path / f"{name}.sqlite"), "dev")
        broker = dev_broker(btc, candles, clock, on_change=books.save)
        for minute in range(0, 20, 3):
            clock.at = T0 + timedelta(minutes=minute, seconds=5)
            side = Side.BUY if minute % 2 == 0 else Side.SELL
            kind = OrderType.LIMIT
            price = D(101) if side is Side.BUY else D(105)
            with contextlib.suppress(InsufficientFundsError):  # a sell with nothing to sell
                broker.place_order(order(f"o{minute}", side, "1", kind, limit_price=price))
        clock.at = T0 + timedelta(minutes=25)
        runs.append((broker.fills(), broker.balances(), books))
    assert runs[0][0] == runs[1][0]
    assert runs[0][1] == runs[1][1]
    assert runs[0][0], "the scenario should trade"
    saved = runs[0][2].load()
    assert saved is not None
    again = dev_broker(btc, candles, Clock(T0 + timedelta(minutes=25)), state=VenueState.restore(saved))
    assert again.fills() == runs[0][0]
    assert again.balances() == runs[0][1]


def test_a_perpetual_position_on_margin_with_funding() -> None:
    clock = Clock(T0 + timedelta(seconds=5))
    model = FillModel(fees=FeeSchedule(maker=D(0), taker=D("0.001")), funding_rate_per_hour=D("0.0001"))
    v = SimulatedVenue({PERP.product_id: PERP}, model, VenueState({"USDC": D(10_000)}), clock)
    quote_at = lambda price: Quote(PERP.product_id, D(price), D(price), D(price), clock.at)  # noqa: E731
    with pytest.raises(InsufficientFundsError):
        v.place(OrderRequest("p0", PERP.product_id, Side.BUY, OrderType.MARKET, D("2")), quote_at("50000"))
    v.place(OrderRequest("p1", PERP.product_id, Side.BUY, OrderType.MARKET, D("1")), quote_at("50000"))
    [held] = v.positions()
    assert (held.size, held.entry_price, held.product_type) == (D(1), D(50000), ProductType.PERPETUAL)
    summary = v.margin_summary()
    assert summary is not None
    assert summary.initial_margin == D(5000)  # 10% of $50,000
    assert summary.total_balance == D(10_000) - D(50)  # the taker fee; no notional changes hands
    clock.at = T0 + timedelta(hours=1, minutes=1)
    v.work(
        bar(T0 + timedelta(minutes=59), "50000", "51000", "49900", "51000").__class__(
            PERP.product_id, T0 + timedelta(minutes=59), D(50000), D(51000), D(49900), D(51000), D(1)
        )
    )
    v.work(Candle(PERP.product_id, T0 + timedelta(hours=1), D(51000), D(51000), D(51000), D(51000), D(1)))
    funding = D(51000) * D("0.0001")  # one contract of 1 BTC, held into the 13:00 bar
    balance = {b.currency: b.total for b in v.balances()}["USDC"]
    assert balance == D(10_000) - D(50) - funding
    v.work(Candle(PERP.product_id, T0 + timedelta(hours=1), D(51000), D(51000), D(51000), D(51000), D(1)))
    assert {b.currency: b.total for b in v.balances()}["USDC"] == balance  # each hour is charged once
    after = v.margin_summary()
    assert after is not None
    assert after.unrealized_pnl == D(1000)
    v.place(OrderRequest("p2", PERP.product_id, Side.SELL, OrderType.MARKET, D("1.5")), quote_at("52000"))
    [short] = v.positions()
    assert (short.size, short.entry_price, short.realized_pnl) == (D("-0.5"), D(52000), D(2000))
