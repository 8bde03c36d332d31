"""The bot's clock measured against the exchange's: the bound that never runs the exchange's clock fast (the
answer taken as stamped when it arrived), re-read when due, a failed read never raised and never forgetting
the last measurement."""

from datetime import UTC, datetime, timedelta

import pytest

from gpttrader.brokers.errors import ExchangeUnavailableError
from gpttrader.engine.skew import RETRY, ClockSkew

T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
HALF_TRIP = timedelta(milliseconds=200)  # the exchange stamps its answer halfway through a 400 ms trip


class Ticking:
    """The bot's clock; each request to the exchange takes `trip` on it."""

    def __init__(self, start: datetime, trip: timedelta) -> None:
        self.at, self.trip = start, trip

    def __call__(self) -> datetime:
        return self.at


class Exchange:
    """The exchange's clock `behind` the bot's, read halfway through the trip; or failing while `down`."""

    def __init__(self, bot: Ticking, behind: timedelta) -> None:
        self.bot, self.behind, self.down, self.calls = bot, behind, False, 0

    def __call__(self) -> datetime:
        self.calls += 1
        answered = self.bot.at + self.bot.trip / 2 - self.behind
        self.bot.at += self.bot.trip
        if self.down:
            raise ExchangeUnavailableError("503 from /time")
        return answered


@pytest.fixture
def bot_clock() -> Ticking:
    return Ticking(T0, timedelta(milliseconds=400))


def test_the_skew_is_at_most_what_the_round_trip_allows(bot_clock: Ticking) -> None:
    skew = ClockSkew(Exchange(bot_clock, 2 * SECOND), bot_clock)
    # 2 s ahead, stamped at mid trip: 2.2 s is the most the bot can be ahead given what it saw
    assert skew.measure() == 2 * SECOND + HALF_TRIP
    assert skew.exchange_time(T0 + 60 * SECOND) == T0 + 58 * SECOND - HALF_TRIP


def test_a_bot_behind_the_exchange_has_a_negative_skew(bot_clock: Ticking) -> None:
    skew = ClockSkew(Exchange(bot_clock, -3 * SECOND), bot_clock)
    assert skew.measure() == -3 * SECOND + HALF_TRIP
    assert skew.exchange_time(T0) == T0 + 3 * SECOND - HALF_TRIP


def test_measured_on_first_use_then_again_only_when_due(bot_clock: Ticking) -> None:
    exchange = Exchange(bot_clock, 2 * SECOND)
    skew = ClockSkew(exchange, bot_clock, every=timedelta(minutes=5))
    for minute in range(5):  # the first read holds for five minutes
        skew.exchange_time(T0 + timedelta(minutes=minute))
    assert exchange.calls == 1
    exchange.behind = 3 * SECOND  # the bot's clock drifted
    now = bot_clock.at = T0 + timedelta(minutes=5, seconds=1)
    assert skew.exchange_time(now) == now - 3 * SECOND - HALF_TRIP
    assert exchange.calls == 2


def test_a_failed_read_keeps_the_last_skew_and_is_retried_a_minute_later(bot_clock: Ticking) -> None:
    exchange = Exchange(bot_clock, 2 * SECOND)
    skew = ClockSkew(exchange, bot_clock, every=timedelta(minutes=5))
    skew.measure()
    exchange.down = True
    now = bot_clock.at = T0 + timedelta(minutes=6)
    assert skew.exchange_time(now) == now - 2 * SECOND - HALF_TRIP  # no exception: the last skew holds
    assert skew.exchange_time(now + RETRY / 2) == now + RETRY / 2 - 2 * SECOND - HALF_TRIP
    assert exchange.calls == 2  # not read on every cycle while the exchange is down
    exchange.down, exchange.behind = False, 4 * SECOND
    later = bot_clock.at = now + RETRY
    assert skew.exchange_time(later) == later - 4 * SECOND - HALF_TRIP
    assert exchange.calls == 3


def test_a_failure_before_any_measurement_assumes_no_skew(bot_clock: Ticking) -> None:
    exchange = Exchange(bot_clock, 2 * SECOND)
    exchange.down = True
    skew = ClockSkew(exchange, bot_clock)
    assert skew.exchange_time(T0) == T0


def test_a_wait_before_the_request_never_runs_the_exchanges_clock_fast() -> None:
    """A rate limiter's or a retry's wait before the request left is not half a flight each way: with both
    clocks agreeing, the exchange's time must not come out ahead of the truth (a forming bar would pass
    for closed)."""
    clock = {"at": datetime(2026, 11, 24, 14, 0, 58, tzinfo=UTC)}

    def server_time() -> datetime:
        clock["at"] += timedelta(seconds=4)  # the wait, then an answer at once
        return clock["at"]

    skew = ClockSkew(server_time, lambda: clock["at"])
    skew.measure()
    assert skew.exchange_time(clock["at"]) <= clock["at"]
