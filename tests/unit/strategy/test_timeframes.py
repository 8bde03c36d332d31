"""A strategy's wider bars: built from its own bars, visible once closed (never a partial bucket a history
began inside), the same in the backtest's step mode as live."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from gpttrader.backtest import run_backtest
from gpttrader.domain import Granularity
from gpttrader.strategy import Bar, HigherBars, Stepper, TargetPosition

MINUTE = timedelta(minutes=1)
T10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def minute_bars(start: datetime, count: int, skip: frozenset[int] = frozenset()) -> list[Bar]:
    return [
        Bar("BTC-USD", start + MINUTE * i, 100.0 + i, 101.0 + i + (i % 7), 99.0 + i - (i % 5), 100.5 + i, 1.0 + i)
        for i in range(count)
        if i not in skip
    ]


def test_an_hour_closes_with_its_last_minute_with_the_minutes_ohlcv() -> None:
    higher = HigherBars(MINUTE, [Granularity.ONE_HOUR])
    minutes = minute_bars(T10, 125)  # 10:00 to 12:04
    delivered = {bar.time: higher.add(bar) for bar in minutes}
    closing = {t: d for t, d in delivered.items() if d}
    assert list(closing) == [T10 + MINUTE * 59, T10 + MINUTE * 119]  # 12:00 is still forming
    ((granularity, hour),) = closing[T10 + MINUTE * 59]
    first = minutes[:60]
    assert granularity is Granularity.ONE_HOUR
    assert hour == Bar(
        "BTC-USD",
        T10,
        first[0].open,
        max(b.high for b in first),
        min(b.low for b in first),
        first[-1].close,
        pytest.approx(sum(b.volume for b in first)),  # type: ignore[arg-type]
    )


def test_a_history_beginning_inside_a_bucket_never_delivers_that_partial_bucket() -> None:
    higher = HigherBars(MINUTE, [Granularity.ONE_HOUR, Granularity.FIFTEEN_MINUTE])
    delivered = [d for bar in minute_bars(T10 + MINUTE * 30, 60) for d in higher.add(bar)]  # 10:30 to 11:29
    assert [(g.value, b.time.strftime("%H:%M")) for g, b in delivered] == [
        ("FIFTEEN_MINUTE", "10:30"),
        ("FIFTEEN_MINUTE", "10:45"),
        ("FIFTEEN_MINUTE", "11:00"),
        ("FIFTEEN_MINUTE", "11:15"),
    ]  # 10:00-11:00 began before the history: never delivered; 11:00-12:00 has not closed


def test_a_bucket_whose_last_bars_never_came_closes_with_the_first_bar_of_a_later_one() -> None:
    higher = HigherBars(MINUTE, [Granularity.ONE_HOUR])
    minutes = minute_bars(T10, 65, skip=frozenset({58, 59, 60}))  # no trades 10:58 to 11:00
    delivered = {bar.time: higher.add(bar) for bar in minutes}
    ((_, hour),) = delivered[T10 + MINUTE * 61]
    assert (hour.time, hour.close) == (T10, minutes[57].close)


@pytest.mark.parametrize(
    ("bar", "higher"), [(timedelta(minutes=7), Granularity.ONE_HOUR), (MINUTE, Granularity.ONE_MINUTE)]
)
def test_a_higher_timeframe_must_be_a_wider_whole_multiple(bar: timedelta, higher: Granularity) -> None:
    with pytest.raises(ValueError, match=f"higher timeframe {higher.value} must be a whole multiple"):
        HigherBars(bar, [higher])


@dataclass(frozen=True)
class HourlyTrend:
    """Long while the last closed hour closed above its open; records what it saw when."""

    seen: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    name: str = "hourly_trend"
    warmup: int = 1
    higher_timeframes: tuple[Granularity, ...] = (Granularity.ONE_HOUR,)

    def new_state(self) -> dict[str, Bar]:
        return {}

    def on_higher_bar(self, bar: Bar, granularity: Granularity, state: dict[str, Bar]) -> None:
        state[granularity.value] = bar

    def on_bar(self, bar: Bar, state: dict[str, Bar]) -> TargetPosition:
        hour = state.get("ONE_HOUR")
        self.seen.append((bar.time, None if hour is None else hour.time))
        up = hour is not None and hour.close > hour.open
        return TargetPosition(bar.product_id, 1.0 if up else 0.0, 1.0, "last hour up")

    def targets(self, candles: pd.DataFrame) -> np.ndarray:
        raise AssertionError("a strategy watching wider bars is stepped: targets() cannot see them")


def frame(minutes: list[Bar]) -> pd.DataFrame:
    candles = pd.DataFrame(
        {
            "time": pd.to_datetime([b.time for b in minutes], utc=True),
            **{k: [float(getattr(b, k)) for b in minutes] for k in ("open", "high", "low", "close", "volume")},
        }
    )
    candles.attrs["product_id"] = minutes[0].product_id
    return candles


def test_the_backtest_steps_a_strategy_watching_wider_bars_as_live_does() -> None:
    minutes = minute_bars(T10, 180)
    backtest = HourlyTrend()
    run_backtest(backtest, frame(minutes), mode="fast")  # fast is not possible: stepped
    live = HourlyTrend()
    stepper = Stepper(live, MINUTE)
    for bar in minutes:
        stepper.step(bar)
    assert backtest.seen == live.seen
    # An hour is visible from the decision on its last minute on, never before it closed
    assert all(hour is None or hour + timedelta(hours=1) <= at + MINUTE for at, hour in backtest.seen)
    assert [hour for at, hour in backtest.seen if at == T10 + MINUTE * 59] == [T10]
    assert [hour for at, hour in backtest.seen if at == T10 + MINUTE * 58] == [None]
