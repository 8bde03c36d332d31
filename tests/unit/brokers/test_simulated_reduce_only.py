"""The simulated venue honours reduce-only: such an order fills at most down to flat and never flips the
position, whether it meets the market at once or rests; spot has nothing to cap."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from gpttrader.brokers.simulated import FeeSchedule, FillModel
from gpttrader.brokers.simulated.fills import reducible
from gpttrader.brokers.simulated.venue import SimulatedVenue, VenueState
from gpttrader.domain import Candle, OrderRequest, OrderStatus, OrderType, Quote, Side
from tests.unit.products import PERP

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def perp_venue() -> SimulatedVenue:
    model = FillModel(fees=FeeSchedule(maker=D(0), taker=D("0.001")))
    return SimulatedVenue({PERP.product_id: PERP}, model, VenueState({"USDC": D(100_000)}), lambda: T0)


def at(price: str) -> Quote:
    return Quote(PERP.product_id, D(price), D(price), D(price), T0)


def market(cid: str, side: Side, size: str, *, reduce_only: bool = False) -> OrderRequest:
    return OrderRequest(cid, PERP.product_id, side, OrderType.MARKET, D(size), reduce_only=reduce_only)


def held(v: SimulatedVenue) -> D:
    return sum((p.size for p in v.positions()), D(0))


def test_a_reduce_only_market_order_larger_than_the_position_stops_at_flat() -> None:
    v = perp_venue()
    v.place(market("open", Side.BUY, "1"), at("50000"))
    placed = v.place(market("exit", Side.SELL, "3", reduce_only=True), at("50000"))
    assert held(v) == 0
    assert (placed.filled_size, placed.status) == (D(1), OrderStatus.CANCELLED)  # the rest could only go short


def test_a_reduce_only_order_on_the_side_that_adds_fills_nothing() -> None:
    v = perp_venue()
    v.place(market("open", Side.SELL, "1"), at("50000"))
    placed = v.place(market("wrong-way", Side.SELL, "1", reduce_only=True), at("50000"))
    assert (placed.filled_size, placed.status, held(v)) == (D(0), OrderStatus.CANCELLED, D(-1))
    flat = perp_venue()
    nothing = flat.place(market("flat", Side.BUY, "1", reduce_only=True), at("50000"))
    assert (nothing.filled_size, nothing.status, flat.positions()) == (D(0), OrderStatus.CANCELLED, [])


def test_a_resting_reduce_only_exit_never_flips_a_position_reduced_meanwhile() -> None:
    v = perp_venue()
    v.place(market("open", Side.BUY, "2"), at("50000"))
    exit_order = OrderRequest(
        "take-profit", PERP.product_id, Side.SELL, OrderType.LIMIT, D(2), limit_price=D(51000), reduce_only=True
    )
    resting = v.place(exit_order, at("50000"))
    assert resting.status is OrderStatus.OPEN
    v.place(market("partial-close", Side.SELL, "1.5"), at("50000"))  # a fill the exit does not know about
    v.work(Candle(PERP.product_id, T0, D(50000), D(52000), D(50000), D(52000), D(100)))
    done = v.order(resting.order_id or "")
    assert held(v) == 0
    assert done.filled_size == D("0.5")
    v.work(Candle(PERP.product_id, T0 + timedelta(minutes=1), D(52000), D(52000), D(51000), D(51000), D(100)))
    assert (v.order(resting.order_id or "").status, held(v)) == (OrderStatus.CANCELLED, D(0))


def test_a_reduce_only_flatten_holds_no_margin_for_what_it_cannot_open() -> None:
    model = FillModel(fees=FeeSchedule(maker=D(0), taker=D("0.001")))
    v = SimulatedVenue({PERP.product_id: PERP}, model, VenueState({"USDC": D(6_000)}), lambda: T0)
    v.place(market("open", Side.BUY, "1"), at("50000"))  # $5,000 of initial margin: $1,000 left
    placed = v.place(market("flatten", Side.SELL, "3", reduce_only=True), at("50000"))
    assert (placed.filled_size, held(v)) == (D(1), D(0))


@pytest.mark.parametrize(
    ("side", "position", "expected"),
    [(Side.SELL, D(2), D(2)), (Side.BUY, D(-2), D(2)), (Side.SELL, D(-2), D(0)), (Side.BUY, D(0), D(0))],
)
def test_reducible_is_what_takes_the_position_to_flat(side: Side, position: D, expected: D) -> None:
    assert reducible(side, position) == expected
