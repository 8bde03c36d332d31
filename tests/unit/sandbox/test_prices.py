import time
from datetime import UTC, datetime

import pandas as pd
import pytest

from gpttrader.marketdata import SyntheticSpec, synthetic_candles
from gpttrader.sandbox.prices import MarketClock, PricePath

ORIGIN = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()) // 60  # the UNIX minute path minute 0 is replayed at


@pytest.fixture
def path() -> PricePath:
    candles = pd.DataFrame(
        {
            "open": [100.0, 104.0, 103.0],
            "high": [105.0, 106.0, 103.5],
            "low": [99.0, 102.0, 95.0],
            "close": [104.0, 103.0, 96.0],
            "volume": [10.0, 20.0, 30.0],
        }
    )
    return PricePath(candles, history_minutes=1, origin_minute=ORIGIN)


def test_price_visits_open_low_high_close_for_an_up_candle(path: PricePath) -> None:
    assert [path.price(p) for p in (0, 1 / 3, 2 / 3)] == pytest.approx([100.0, 99.0, 105.0])
    assert path.price(0.999999) == pytest.approx(104.0, abs=1e-3)
    # A down candle goes open -> high -> low -> close.
    assert [path.price(1 + p) for p in (0, 1 / 3, 2 / 3)] == pytest.approx([104.0, 106.0, 102.0])


def test_whole_candles_span_to_themselves(path: PricePath) -> None:
    assert path.span(1, 2) == pytest.approx((104.0, 106.0, 102.0, 103.0, 20.0))
    o, h, low, c, v = path.span(0.5, 2.5)
    assert (o, c) == pytest.approx((path.price(0.5), path.price(2.5)))
    assert h == pytest.approx(106.0)
    # Candle 2 (down) runs 103 -> 103.5 (at 2+1/3) -> 95 (at 2+2/3): at 2.5 it is half way, 99.25,
    # below candle 1's low of 102, and the span stops before reaching 95.
    assert low == pytest.approx(99.25)
    assert v == pytest.approx(10 * 0.5 + 20 + 30 * 0.5)


def test_real_path_spans_enclose_their_prices() -> None:
    df = synthetic_candles(SyntheticSpec("BTC-USD", 95_000.0), datetime(2026, 1, 1, tzinfo=UTC), 500, seed=9)
    path = PricePath(df, history_minutes=100, origin_minute=ORIGIN)
    for start, end in ((3.2, 3.9), (10.0, 70.0), (0.1, 499.9), (250.5, 251.25)):
        o, h, low, c, _ = path.span(start, end)
        assert low <= min(o, c) <= max(o, c) <= h
        step = (end - start) / 50
        for i in range(51):
            assert low - 1e-6 <= path.price(start + i * step) <= h + 1e-6


def test_clock_history_speed_advance_and_freeze() -> None:
    now = time.time()
    clock = MarketClock(started_at=now - 60, history_minutes=100, speed=10.0)
    assert clock.position(now - 120) == pytest.approx(99.0)  # before the start: real pace
    assert clock.position(now) == pytest.approx(110.0)  # after: ten path minutes per wall minute
    clock.advance(5)
    assert clock.position(now) == pytest.approx(115.0)
    clock.freeze(True)
    frozen = clock.position()
    time.sleep(0.05)
    assert clock.position() == frozen
    clock.advance(2)
    assert clock.position() == pytest.approx(frozen + 2)
    clock.freeze(False)
    assert clock.position() == pytest.approx(frozen + 2, abs=0.05)
    with pytest.raises(ValueError, match="speed must be >= 0"):
        MarketClock(now, 1, -1)
