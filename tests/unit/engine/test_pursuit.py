"""A target's pursuit: backoff after attempts that placed nothing, and the bars it has gone unmet."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from gpttrader.engine.pursuit import Pursuit, held_by_state
from gpttrader.risk import TradingState

T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
BAR = timedelta(minutes=1)


def at(n: int) -> datetime:
    return T0 + BAR * n


def test_attempts_that_place_nothing_back_off_1_2_4_8_then_16_bars() -> None:
    pursuit = Pursuit(1.0, Decimal(1))
    waits = []
    bar = 0
    for _ in range(7):
        assert pursuit.may_try(at(bar), "active")
        pursuit.tried(at(bar), False, BAR)
        assert pursuit.retry_at is not None
        waits.append(int((pursuit.retry_at - at(bar)) / BAR))
        assert not pursuit.may_try(pursuit.retry_at - BAR, "active")
        bar += waits[-1]
    assert waits == [1, 2, 4, 8, 16, 16, 16]


def test_an_attempt_that_places_resets_the_backoff() -> None:
    pursuit = Pursuit(1.0, Decimal(1))
    pursuit.tried(at(0), False, BAR)
    pursuit.tried(at(1), False, BAR)
    pursuit.tried(at(3), True, BAR)
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
    pursuit.tried(at(0), False, BAR, held_by="reduce_only")
    assert not any(pursuit.may_try(at(bar), "reduce_only") for bar in range(1, 100))
    assert pursuit.may_try(at(100), "active")
    assert (pursuit.held_by, pursuit.failures, pursuit.retry_at) == (None, 0, None)
    pursuit.tried(at(100), False, BAR, held_by="reduce_only")
    assert pursuit.may_try(at(101), "halted")  # a stricter state is a change too: tried (and refused) once
