"""The order manager's rules: a target's pursuit (backoff after attempts that placed nothing, the bars it has gone
unmet, the order it asks for), what a trading state stops, an entry's expiry and the size of an exit."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from gpttrader.domain import OrderType, Product, Side
from gpttrader.engine.order_manager import ExitPlan, Pursuit, entry_expiry, exit_size, held_by_state, stopped_by
from gpttrader.risk import TradingState

T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
BAR = timedelta(minutes=1)
SPOT = Product("BTC-USD", "BTC", "USD", Decimal("0.0001"), Decimal("0.01"), Decimal("0.001"), Decimal(100), Decimal(1))


def at(n: int) -> datetime:
    return T0 + BAR * n


def test_attempts_that_place_nothing_back_off_1_2_4_8_then_16_bars() -> None:
    pursuit = Pursuit(1.0, Decimal(1))
    waits = []
    bar = 0
    for _ in range(7):
        assert pursuit.may_try(at(bar), "active")
        pursuit.after(at(bar), BAR, placed=False, state=TradingState.ACTIVE, position=Decimal(0), change=Decimal(1))
        assert pursuit.retry_at is not None
        waits.append(int((pursuit.retry_at - at(bar)) / BAR))
        assert not pursuit.may_try(pursuit.retry_at - BAR, "active")
        bar += waits[-1]
    assert waits == [1, 2, 4, 8, 16, 16, 16]


def test_an_attempt_that_places_resets_the_backoff() -> None:
    pursuit = Pursuit(1.0, Decimal(1))
    pursuit.after(at(0), BAR, placed=False, state=TradingState.ACTIVE, position=Decimal(0), change=Decimal(1))
    pursuit.after(at(1), BAR, placed=False, state=TradingState.ACTIVE, position=Decimal(0), change=Decimal(1))
    pursuit.after(at(3), BAR, placed=True, state=TradingState.ACTIVE, position=Decimal(0), change=Decimal(1))
    assert pursuit.failures == 0
    assert pursuit.may_try(at(3), "active")


def test_unmet_bars_count_from_the_first_bar_the_goal_was_not_held() -> None:
    pursuit = Pursuit(1.0, Decimal(1))
    pursuit.observe(at(0), met=True)
    assert pursuit.unmet_bars(at(0), BAR) == 0
    for n in range(1, 4):
        pursuit.observe(at(n), met=False)
    assert pursuit.unmet_bars(at(3), BAR) == 3
    pursuit.observe(at(4), met=True)
    assert pursuit.unmet_bars(at(4), BAR) == 0


def test_an_attempt_the_trading_state_refused_waits_for_the_state_to_change() -> None:
    """Reduce-only refuses the same buy on every bar: no attempt is made while it holds (no backoff clock
    either), and the first bar after it moves tries at once."""
    pursuit = Pursuit(1.0, Decimal(1))
    assert held_by_state(TradingState.REDUCE_ONLY, Decimal(0), Decimal(1)) == "reduce_only"
    assert held_by_state(TradingState.REDUCE_ONLY, Decimal(1), Decimal(-1)) is None  # a sell that reduces passes
    assert held_by_state(TradingState.HALTED, Decimal(1), Decimal(-1)) == "halted"
    pursuit.after(at(0), BAR, placed=False, state=TradingState.REDUCE_ONLY, position=Decimal(0), change=Decimal(1))
    assert not any(pursuit.may_try(at(bar), "reduce_only") for bar in range(1, 100))
    assert pursuit.may_try(at(100), "active")
    assert (pursuit.held_by, pursuit.failures, pursuit.retry_at) == (None, 0, None)
    pursuit.after(at(100), BAR, placed=False, state=TradingState.REDUCE_ONLY, position=Decimal(0), change=Decimal(1))
    assert pursuit.may_try(at(101), "halted")  # a stricter state is a change too: tried (and refused) once


def change(
    pursuit: Pursuit, held: str, *, spendable: str = "1000000", state: TradingState = TradingState.ACTIVE
) -> Decimal | None:
    return pursuit.next_change(
        held=Decimal(held),
        product=SPOT,
        goal_of=lambda: Decimal("0.5"),
        bar_time=at(0),
        state=state,
        spendable=Decimal(spendable),
        spend_price=Decimal(100),
        fee_rate=Decimal("0.01"),
    )


def test_a_pursuit_orders_the_gap_on_the_grid_and_settles_once_it_is_held() -> None:
    pursuit = Pursuit(1.0, None)
    assert change(pursuit, "0.2") == Decimal("0.3")
    assert pursuit.goal == Decimal("0.5")  # asked when the target changed, then kept
    assert change(pursuit, "0.49999") is None  # under the increment: held
    assert change(pursuit, "0.7") == Decimal("-0.2")


def test_a_buy_is_cut_to_the_cash_and_the_goal_to_what_it_pays_for() -> None:
    pursuit = Pursuit(1.0, None)
    assert change(pursuit, "0", spendable="20.2") == Decimal("0.2")  # 20.2 / (100 x 1.01)
    assert pursuit.goal == Decimal("0.2")
    assert change(Pursuit(1.0, None), "0", spendable="0.05") is None  # not even the minimum: nothing


def test_a_spot_goal_is_never_short() -> None:
    pursuit = Pursuit(-1.0, None)
    pursuit.next_change(
        held=Decimal(0),
        product=SPOT,
        goal_of=lambda: Decimal(-1),
        bar_time=at(0),
        state=TradingState.ACTIVE,
        spendable=Decimal(0),
        spend_price=Decimal(100),
        fee_rate=Decimal(0),
    )
    assert pursuit.goal == 0


def test_reduce_only_and_halted_stop_what_would_grow_a_position_and_keep_what_shrinks_it() -> None:
    buy, sell, one, half = Side.BUY, Side.SELL, Decimal(1), Decimal("0.5")
    assert stopped_by(TradingState.ACTIVE, Decimal(0), [(buy, one)]) == [False]
    assert stopped_by(TradingState.REDUCE_ONLY, Decimal(0), [(buy, one), (sell, one)]) == [True, True]  # flat
    assert stopped_by(TradingState.REDUCE_ONLY, one, [(buy, one), (sell, half)]) == [True, False]
    assert stopped_by(TradingState.HALTED, Decimal(-1), [(buy, half)]) == [False]  # a short bought back
    assert stopped_by(TradingState.HALTED, one, [(sell, Decimal(3))]) == [True]  # it would open a short


def test_orders_that_each_shrink_a_position_are_judged_together() -> None:
    """Two sells of 0.8 against a long of 1: each alone shrinks it, both would flip it short by 0.6."""
    sells = [(Side.SELL, Decimal("0.8")), (Side.SELL, Decimal("0.8"))]
    assert stopped_by(TradingState.REDUCE_ONLY, Decimal(1), sells) == [False, True]
    # An exit already covering 0.5 of it leaves room for neither.
    exit_order = [(Side.SELL, Decimal("0.5"))]
    assert stopped_by(TradingState.REDUCE_ONLY, Decimal(1), sells, kept=exit_order) == [True, True]
    # What a kept order on the other side (a resting buy back of a short) might take does not count here.
    assert stopped_by(TradingState.REDUCE_ONLY, Decimal(1), sells, kept=[(Side.BUY, Decimal(1))]) == [False, True]


def test_an_entry_expires_once_its_last_bar_has_closed() -> None:
    assert entry_expiry(at(0), BAR, 2) == at(3)  # decided on bar 0, works on bars 1 and 2
    assert entry_expiry(at(0), BAR, None) is None


def test_an_exit_covers_what_filled_within_the_room_and_waits_under_the_minimum() -> None:
    at_100 = Decimal(100)
    assert exit_size(Decimal("0.5"), Decimal("0.3"), SPOT, at_100) == Decimal("0.3")
    assert exit_size(Decimal("0.00055"), Decimal(1), SPOT, at_100) == 0  # 0.0005 on the grid, under the 0.001 minimum
    # 0.009 at 100 is worth 0.90, under the product's minimum order value of 1: dust, no exit (it would be
    # refused before it is sent, three times, and turn the bot reduce-only for a position it cannot close).
    assert exit_size(Decimal("0.009"), Decimal(1), SPOT, at_100) == 0
    assert exit_size(Decimal("0.01"), Decimal(1), SPOT, at_100) == Decimal("0.01")
    plan = ExitPlan(Decimal("150.005"), Decimal("49.995"))
    order = plan.order("e-x1", SPOT, Side.BUY, Decimal("0.3"))
    assert (order.side, order.order_type, order.reduce_only) == (Side.SELL, OrderType.BRACKET, True)
    assert (order.limit_price, order.stop_price) == (Decimal("150.01"), Decimal("50.00"))  # a sell rounds up
