"""One round-trip rule for live, paper and the backtest: the same fills give the same trips (PnL after
fees, return fraction, times) whichever path books them, with the entry's and the exit's fees both the
trip's, a flip's fee split pro rata between the trip it closes and the one it opens, and a partial close
charged the entry fees of what it closed."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import numpy as np
import pandas as pd

from gpttrader.backtest import run_backtest
from gpttrader.brokers.simulated import FeeSchedule, FillModel
from gpttrader.domain import Fill, Liquidity, Product, Side
from gpttrader.domain.round_trips import RoundTrip, RoundTrips, round_trips
from gpttrader.engine.portfolio import Portfolio
from gpttrader.strategy import Bar, TargetPosition
from tests.unit.products import PERP

T0 = datetime(2026, 1, 1, tzinfo=UTC)

# (side, size, price, fee): fees on both legs, a partial close, a flip from long to short (whose fee is
# part closing, part opening), a short closed in two fills, and a last trip left open after a partial close.
SCRIPT = [
    ("BUY", "2", "100", "0.2"),
    ("BUY", "1", "106", "0.106"),
    ("SELL", "1", "110", "0.11"),
    ("SELL", "5", "108", "0.54"),  # closes the long's 2, opens a short of 3
    ("BUY", "1", "104", "0.104"),
    ("BUY", "2", "101", "0.202"),
    ("BUY", "4", "100", "0.4"),
    ("SELL", "1", "105", "0.105"),
]


def fills(product: Product) -> list[Fill]:
    return [
        Fill(f"t{i}", f"c{i}", product.product_id, Side(side), D(price), D(size), D(fee), Liquidity.TAKER, at)
        for i, (side, size, price, fee) in enumerate(SCRIPT)
        for at in [T0 + timedelta(minutes=i)]
    ]


def live(stream: list[Fill], product: Product) -> list[RoundTrip]:
    """As the live and paper coordinator books its fills (and the backtest's engine, fill by fill): one
    `RoundTrips`, fed each fill as it is booked."""
    trips = RoundTrips()
    return [trip for fill in stream if (trip := trips.apply(fill, product.multiplier)) is not None]


def backtest(stream: list[Fill], product: Product) -> list[RoundTrip]:
    """As the backtest's trades frame and the session report book them: from the whole fill list."""
    return [t for t in round_trips(stream, {product.product_id: product.multiplier}) if t.exit_time is not None]


def test_live_and_backtest_book_the_same_trips(btc_future: Product) -> None:
    stream = fills(btc_future)
    assert backtest(stream, btc_future) == live(stream, btc_future)


def test_the_fee_rule_by_hand(btc_future: Product) -> None:
    stream = fills(btc_future)
    long, short, still = round_trips(stream, {btc_future.product_id: btc_future.multiplier})
    m = D("0.01")  # the future's contract size
    # The long: its entries' fees, its partial exit's, and 2/5 of the flip's (the 2 it closed).
    assert long.fees == D("0.2") + D("0.106") + D("0.11") + D("0.54") * 2 / 5
    assert long.pnl == ((110 - 102) * 1 + (108 - 102) * 2) * m - long.fees
    assert (long.entry_time, long.exit_time) == (T0, T0 + timedelta(minutes=3))
    assert long.notional == 3 * 102 * m
    assert long.fraction == long.pnl / long.notional
    # The short: 3/5 of the flip's fee is its entry fee, and both exits' fees.
    assert short.fees == D("0.54") * 3 / 5 + D("0.104") + D("0.202")
    assert short.pnl == ((108 - 104) * 1 + (108 - 101) * 2) * m - short.fees
    assert short.side == "SHORT"
    assert (short.entry_time, short.exit_time) == (T0 + timedelta(minutes=3), T0 + timedelta(minutes=5))
    # Still open after selling 1 of 4: charged that 1's share of the entry fee, not all of it.
    assert still.exit_time is None
    assert still.fees == D("0.4") / 4 + D("0.105")
    assert still.pnl == (105 - 100) * m - still.fees
    # Nothing counted twice or lost: the trips' fees and those of what is still held are all that was paid.
    assert long.fees + short.fees + still.fees + D("0.4") * 3 / 4 == sum(f.fee for f in stream)


def test_the_fraction_is_the_edge_records(btc_future: Product) -> None:
    """The fraction is the trip's PnL over the largest cost its position reached, measured here from the
    portfolio after each fill (a flip's rest opens the next trip's peak)."""
    stream, portfolio, measured = fills(btc_future), Portfolio(cash=D(0)), []
    trips, peak = RoundTrips(), D(0)
    for fill in stream:
        portfolio.apply(fill, btc_future)
        trip = trips.apply(fill, btc_future.multiplier)
        held = portfolio.holding(btc_future)
        cost = abs(held.size * held.entry_price * btc_future.multiplier)
        if trip is not None:
            measured.append(trip.pnl / peak)
            peak = D(0)
        peak = max(peak, cost)
    assert measured == [t.fraction for t in live(stream, btc_future)]


def test_a_closed_trip_nets_what_the_portfolio_made(btc_future: Product) -> None:
    stream = fills(btc_future)[:6]  # flat again after the short
    portfolio = Portfolio(cash=D(0))
    for fill in stream:
        portfolio.apply(fill, btc_future)
    assert sum(t.pnl for t in live(stream, btc_future)) == portfolio.cash


@dataclass(frozen=True)
class Flip:
    """Long, then short, then long again: every change of target a flip."""

    name: str = "flip"

    @property
    def warmup(self) -> int:
        return 1

    def targets(self, candles: pd.DataFrame) -> np.ndarray:
        return np.where((np.arange(len(candles)) // 7) % 2 == 0, 1.0, -1.0)

    def new_state(self) -> None:
        return None

    def on_bar(self, bar: Bar, state: None) -> TargetPosition:
        raise NotImplementedError


def test_a_backtests_trades_are_the_trips_its_edge_record_counted() -> None:
    """Within one backtest: the trades it reports are the trips its walk-forward edge record counted."""
    times = pd.date_range("2026-01-01", periods=60, freq="1min", tz="UTC")
    close = 100 + 3 * np.sin(np.arange(60) / 4)
    candles = pd.DataFrame(
        {"time": times, "open": close, "high": close + 1, "low": close - 1, "close": close, "volume": 1e6}
    )
    model = FillModel(fees=FeeSchedule(maker=D("0.001"), taker=D("0.002")))
    result = run_backtest(
        Flip(), candles, product_id=PERP.product_id, products={PERP.product_id: PERP}, fill_model=model
    )
    closed = [t for t in result.trades if t.exit_time is not None]
    assert len(closed) > 3
    assert any(t.side == "SHORT" for t in closed)
    assert [(t.exit_time, t.product_id, t.fraction) for t in closed] == result.trip_returns
