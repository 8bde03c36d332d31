from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from gpttrader.domain import (
    Balance,
    Candle,
    DomainError,
    Fill,
    Liquidity,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Product,
    ProductType,
    Quote,
    Side,
    TimeInForce,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def request(**changes: object) -> OrderRequest:
    fields: dict[str, object] = {
        "client_order_id": "c-1",
        "product_id": "BTC-USD",
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "size": Decimal("0.5"),
        "limit_price": Decimal("100"),
    }
    fields.update(changes)
    return OrderRequest(**fields)  # type: ignore[arg-type]


def test_value_types_are_frozen(btc: Product) -> None:
    with pytest.raises(AttributeError):
        btc.base_increment = Decimal("1")  # type: ignore[misc]


def test_floats_are_refused_as_money() -> None:
    with pytest.raises(DomainError, match="size must be a Decimal, got float"):
        request(size=0.5)


def test_future_needs_contract_size_and_expiry() -> None:
    base = {
        "product_id": "BIT-X",
        "base_currency": "BTC",
        "quote_currency": "USD",
        "base_increment": Decimal(1),
        "quote_increment": Decimal(5),
        "base_min_size": Decimal(1),
        "base_max_size": Decimal(10),
        "quote_min_size": Decimal(0),
        "product_type": ProductType.FUTURE,
    }
    with pytest.raises(DomainError, match="needs a contract_size"):
        Product(**base)  # type: ignore[arg-type]
    with pytest.raises(DomainError, match="needs an expiry"):
        Product(**base, contract_size=Decimal("0.01"))  # type: ignore[arg-type]
    with pytest.raises(DomainError, match="PERPETUAL product has no expiry"):
        Product(**{**base, "product_type": ProductType.PERPETUAL}, contract_size=Decimal(1), expiry=T0)  # type: ignore[arg-type]
    with pytest.raises(DomainError, match="SPOT product has no contract_size"):
        Product(**{**base, "product_type": ProductType.SPOT}, contract_size=Decimal(1))  # type: ignore[arg-type]


def test_expiry_is_normalised_to_utc_and_naive_times_refused(btc_future: Product) -> None:
    assert btc_future.expiry == datetime(2026, 12, 27, 16, tzinfo=UTC)
    assert btc_future.multiplier == Decimal("0.01")
    with pytest.raises(DomainError, match="timezone-aware"):
        Candle("BTC-USD", datetime(2026, 1, 1), Decimal(1), Decimal(1), Decimal(1), Decimal(1), Decimal(1))


def test_product_rejects_bad_increments_and_sizes() -> None:
    with pytest.raises(DomainError, match="base_increment must be > 0"):
        Product("X-USD", "X", "USD", Decimal(0), Decimal("0.01"), Decimal(1), Decimal(2), Decimal(1))
    with pytest.raises(DomainError, match="base_max_size 1 is below base_min_size 2"):
        Product("X-USD", "X", "USD", Decimal(1), Decimal("0.01"), Decimal(2), Decimal(1), Decimal(1))


@pytest.mark.parametrize(
    ("order_type", "prices", "message"),
    [
        (OrderType.LIMIT, {}, "LIMIT order needs limit_price"),
        (OrderType.MARKET, {"limit_price": Decimal(1)}, "MARKET order takes no limit_price"),
        (OrderType.STOP_LIMIT, {"limit_price": Decimal(1)}, "STOP_LIMIT order needs stop_price"),
        (OrderType.BRACKET, {"stop_price": Decimal(1)}, "BRACKET order needs limit_price"),
        (OrderType.LIMIT, {"limit_price": Decimal(-1)}, "limit_price must be > 0"),
    ],
)
def test_order_request_prices_match_the_type(order_type: OrderType, prices: dict[str, Decimal], message: str) -> None:
    with pytest.raises(DomainError, match=message):
        request(order_type=order_type, **{"limit_price": None, **prices})


def test_time_in_force_defaults_and_rules() -> None:
    assert request().time_in_force is TimeInForce.GTC
    assert request(order_type=OrderType.MARKET, limit_price=None).time_in_force is TimeInForce.IOC
    with pytest.raises(DomainError, match="MARKET order is IOC or FOK"):
        request(order_type=OrderType.MARKET, limit_price=None, time_in_force=TimeInForce.GTC)
    with pytest.raises(DomainError, match="end_time is required with GTD"):
        request(time_in_force=TimeInForce.GTD)
    with pytest.raises(DomainError, match="only with GTD"):
        request(end_time=T0)
    gtd = request(time_in_force=TimeInForce.GTD, end_time=datetime(2026, 1, 1, 2, tzinfo=timezone(timedelta(hours=2))))
    assert gtd.end_time == T0
    with pytest.raises(DomainError, match="post_only applies to resting LIMIT"):
        request(post_only=True, time_in_force=TimeInForce.IOC)


def test_order_tracks_fills_and_refuses_overfill() -> None:
    order = Order(
        request(), OrderStatus.PARTIALLY_FILLED, T0, T0, filled_size=Decimal("0.2"), average_filled_price=Decimal("100")
    )
    assert order.remaining_size == Decimal("0.3")
    assert not order.is_terminal
    with pytest.raises(DomainError, match="exceeds size"):
        Order(request(), OrderStatus.FILLED, T0, T0, filled_size=Decimal("0.6"), average_filled_price=Decimal(1))
    with pytest.raises(DomainError, match="without average_filled_price"):
        Order(request(), OrderStatus.FILLED, T0, T0, filled_size=Decimal("0.5"))


def test_status_machine_only_moves_forward() -> None:
    assert OrderStatus.PENDING.can_become(OrderStatus.OPEN)
    assert OrderStatus.OPEN.can_become(OrderStatus.PARTIALLY_FILLED)
    assert OrderStatus.PARTIALLY_FILLED.can_become(OrderStatus.FILLED)
    assert OrderStatus.FILLED.can_become(OrderStatus.FILLED)
    assert not OrderStatus.FILLED.can_become(OrderStatus.OPEN)
    assert not OrderStatus.PARTIALLY_FILLED.can_become(OrderStatus.OPEN)
    assert not OrderStatus.CANCELLED.can_become(OrderStatus.FILLED)
    assert {s for s in OrderStatus if s.is_terminal} == {
        OrderStatus.FILLED,
        OrderStatus.CANCELLED,
        OrderStatus.EXPIRED,
        OrderStatus.REJECTED,
        OrderStatus.FAILED,
    }


def test_fill_and_balance() -> None:
    fill = Fill("t1", "c-1", "BTC-USD", Side.BUY, Decimal("100"), Decimal("0.5"), Decimal("0.3"), Liquidity.TAKER, T0)
    assert fill.notional == Decimal("50.0")
    with pytest.raises(DomainError, match="fee must be >= 0"):
        Fill("t1", "c-1", "BTC-USD", Side.BUY, Decimal(1), Decimal(1), Decimal(-1), Liquidity.MAKER, T0)
    assert Balance("USD", Decimal("90"), Decimal("10")).total == Decimal("100")


def test_position_pnl_for_spot_and_short_future() -> None:
    spot = Position("BTC-USD", Decimal("2"), Decimal("100"), Decimal("110"), realized_pnl=Decimal("5"))
    assert spot.unrealized_pnl == Decimal("20")
    assert spot.side is Side.BUY
    assert spot.notional == Decimal("220")
    short = Position(
        "BIT-X",
        Decimal("-3"),
        Decimal("100"),
        Decimal("90"),
        product_type=ProductType.FUTURE,
        multiplier=Decimal("0.01"),
    )
    assert short.unrealized_pnl == Decimal("0.30")
    assert short.side is Side.SELL
    with pytest.raises(DomainError, match="spot position cannot be short"):
        Position("BTC-USD", Decimal("-1"), Decimal(1), Decimal(1))


def test_quote_rejects_crossed_book_and_computes_spread() -> None:
    quote = Quote("BTC-USD", Decimal("99"), Decimal("101"), Decimal("100"), T0)
    assert quote.mid == Decimal("100")
    assert quote.spread_bps == Decimal("200")
    with pytest.raises(DomainError, match="crossed"):
        Quote("BTC-USD", Decimal("101"), Decimal("99"), Decimal("100"), T0)


def test_candle_must_enclose_open_and_close() -> None:
    with pytest.raises(DomainError, match="do not enclose"):
        Candle("BTC-USD", T0, Decimal(10), Decimal(11), Decimal(9), Decimal(12), Decimal(1))


def test_roll_position_adds_reduces_and_flips() -> None:
    from gpttrader.domain import roll_position

    assert roll_position(Decimal(0), Decimal(0), Decimal(2), Decimal(100)) == (Decimal(2), Decimal(100), Decimal(0))
    assert roll_position(Decimal(2), Decimal(100), Decimal(2), Decimal(110)) == (Decimal(4), Decimal(105), Decimal(0))
    assert roll_position(Decimal(4), Decimal(105), Decimal(-1), Decimal(125)) == (Decimal(3), Decimal(105), Decimal(20))
    # Selling 5 against a long of 3: 3 close at +20 each, 2 open short at 125.
    size, entry, realized = roll_position(Decimal(3), Decimal(105), Decimal(-5), Decimal(125), Decimal("0.5"))
    assert (size, entry, realized) == (Decimal(-2), Decimal(125), Decimal(30))
    assert roll_position(Decimal(-2), Decimal(125), Decimal(2), Decimal(120)) == (Decimal(0), Decimal(0), Decimal(10))
