"""The seed's documented sizing call, as written: plain numbers, a loss written negative, the regime
named, a module-level function over the default Kelly sizer."""

from decimal import Decimal as D

import pytest

from gpttrader.risk import MarketRegime, PositionSizeRequest, calculate_position_size


def test_the_documented_call_works_as_written() -> None:
    """Kelly 0.65 - 0.35 / (0.08 / 0.04) = 0.475, capped at 0.25, x 0.75 confidence = 0.1875 (a quiet bull
    market is not scaled) of $10,000: $1,875, 12.5 units at $150."""
    answer = calculate_position_size(
        PositionSizeRequest(
            symbol="BTC-USD",
            current_price=150,
            portfolio_value=10_000,
            strategy_name="momentum",
            win_rate=0.65,
            avg_win=0.08,
            avg_loss=-0.04,
            confidence=0.75,
            market_regime="bull_quiet",
        )
    )
    assert answer.kelly_fraction == D("0.475")
    assert (answer.fraction, answer.notional, answer.size) == (D("0.1875"), D(1875), D("12.5"))
    assert answer.method == "kelly"
    assert answer.reasons == ("kelly_cap", "confidence")


def test_plain_numbers_are_read_through_their_decimal_text() -> None:
    request = PositionSizeRequest("BTC-USD", 0.1, "10000", win_rate=0.55, avg_win=D("0.02"), avg_loss=-0.01)
    assert request.current_price == D("0.1")  # not Decimal(0.1) = 0.1000000000000000055511151231257827...
    assert (request.portfolio_value, request.win_rate, request.avg_loss) == (D(10_000), D("0.55"), D("0.01"))
    assert PositionSizeRequest("BTC-USD", 1, 1, market_regime="Bear_Volatile").market_regime is (
        MarketRegime.BEAR_VOLATILE
    )


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"market_regime": "sideways"}, "not one of bull_quiet"),
        ({"current_price": float("nan")}, "must be finite"),
        ({"current_price": "abc"}, "not a number"),
        ({"avg_win": -0.02}, "magnitude"),
        ({"win_rate": 1.5}, "within"),
    ],
)
def test_what_is_refused(changes: dict[str, object], error: str) -> None:
    fields: dict[str, object] = {"symbol": "BTC-USD", "current_price": 100, "portfolio_value": 1000, **changes}
    with pytest.raises(ValueError, match=error):
        PositionSizeRequest(**fields)  # type: ignore[arg-type]


def test_a_boolean_is_not_a_number() -> None:
    with pytest.raises(TypeError):
        PositionSizeRequest("BTC-USD", True, 1000)
