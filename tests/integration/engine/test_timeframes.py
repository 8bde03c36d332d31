"""A strategy decides on closed bars of its own granularity, live as in research: the paper bot against the
sandbox (public candles through the Coinbase adapter) on a virtual clock, an hourly strategy deciding on
each hourly bar once it has closed, warmed up on as many bars as it asks for, paged through the candles
endpoint (350 a request at most), its volatility read per hourly bar."""

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.domain import Granularity
from gpttrader.risk.metrics import annualized_volatility
from gpttrader.sandbox import RunningSandbox
from gpttrader.strategy import Bar, OrderIntent
from tests.integration.engine.sessions import paper_config
from tests.integration.sandbox.conftest import SandboxFactory

START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
PID = "BTC-USD"


@dataclass
class Watcher:
    """Decides nothing; keeps every bar it is given with the exchange's time when it was given."""

    sandbox: RunningSandbox
    warmup: int
    name: str = "watcher"
    seen: list[tuple[Bar, datetime]] = field(default_factory=list)

    def new_state(self) -> None:
        return None

    def on_bar(self, bar: Bar, state: None) -> tuple[OrderIntent, ...]:
        self.seen.append((bar, self.sandbox.wall.utc()))
        return ()


@pytest.fixture
def market(start_sandbox: SandboxFactory) -> RunningSandbox:
    """Twenty days of history behind the start: a 400-hour warm-up fits."""
    return start_sandbox(virtual_start=START.timestamp(), speed=1.0, history_minutes=20 * 1440)


@pytest.mark.parametrize("granularity", [Granularity.ONE_MINUTE, Granularity.ONE_HOUR])
def test_a_400_bar_warm_up_is_read_in_pages_and_the_strategy_decides_on_each_closed_bar(
    market: RunningSandbox, tmp_path: Path, granularity: Granularity
) -> None:
    config = paper_config(
        market,
        tmp_path,
        symbols=[PID],
        strategy={"name": "ma_cross", "params": {"fast": 3, "slow": 8}, "granularity": granularity.value},
    )
    watcher = Watcher(market, warmup=400)
    bar = granularity.width
    with ApplicationContainer(config, clock=SandboxClock(market)) as container:
        bot = container.create_bot(watcher)
        assert bot.bootstrap().ok
        warmed = [b for b, _ in watcher.seen]
        bot.run(max_cycles=150)  # 2.5 hours of market, a cycle a minute
        bot.shutdown()
        decided = watcher.seen[len(warmed) :]
        end = market.wall.utc()
        exchange = {
            c.time: c for c in container.broker.candles(PID, granularity, decided[0][0].time, granularity.bucket(end))
        }
        readings = {r.scope: r.value for r in bot.risk.readings() if r.guard == "volatility"}

    assert len(warmed) >= 400
    assert all(b.time - a.time == bar for a, b in itertools.pairwise(warmed))
    # Every bar that closed during the run, once, in order, each right after it closed
    assert [b.time for b, _ in decided] == [
        warmed[-1].time + bar * n for n in range(1, (granularity.bucket(end) - warmed[-1].time) // bar)
    ]
    if granularity is Granularity.ONE_HOUR:  # the warm-up leaves the last closed bar to the first cycle
        assert [b.time for b, _ in decided] == [START - HOUR, START, START + HOUR]
    for b, seen_at in decided:
        assert b.time + bar <= seen_at < b.time + bar + timedelta(seconds=config.interval_seconds)
        candle = exchange[b.time]
        assert (b.open, b.high, b.low, b.close) == tuple(
            float(v) for v in (candle.open, candle.high, candle.low, candle.close)
        )
    # Volatility per bar of the strategy's width, annualized from it
    closes = np.array([b.close for b in warmed] + [b.close for b, _ in decided])
    window = config.risk.volatility_window
    expected = annualized_volatility(closes[-(window + 1) :], window, bar.total_seconds())[-1]
    assert readings[PID] == pytest.approx(expected, rel=1e-9)
