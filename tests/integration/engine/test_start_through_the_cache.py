"""A bot's start (sizing seed, then a 400-bar warm-up) reads the venue's candles through the parquet cache:
the paper bot against the sandbox (public candles through the Coinbase adapter) on a virtual clock, every
candles request counted at the broker."""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.config import BotConfig
from gpttrader.domain import Candle, Granularity
from gpttrader.engine.history import closed_candles
from gpttrader.marketdata.cache import CandleCache
from gpttrader.marketdata.files import read_candle_file
from gpttrader.marketdata.frames import to_frame
from gpttrader.sandbox import RunningSandbox
from gpttrader.strategy import Bar, OrderIntent
from tests.integration.engine.sessions import PID, START, paper_config

MINUTE = timedelta(minutes=1)
WARM_UP = 400


@dataclass
class Watcher:
    """Decides nothing; keeps the bars it is warmed up on."""

    warmup: int = WARM_UP
    name: str = "watcher"
    fed: list[Bar] = field(default_factory=list)

    def new_state(self) -> None:
        return None

    def on_bar(self, bar: Bar, state: None) -> tuple[OrderIntent, ...]:
        self.fed.append(bar)
        return ()


@dataclass
class Start:
    fed: list[Bar]
    asked: list[tuple[datetime, datetime]]  # each candles request's window
    venue: dict[datetime, Candle]  # the venue's own candles over the fed bars, read past the cache


def start(sandbox: RunningSandbox, config: BotConfig, monkeypatch: pytest.MonkeyPatch) -> Start:
    """A bot's start, from a new container (a restart), then its shutdown."""
    watcher, asked = Watcher(), []
    with ApplicationContainer(config, clock=SandboxClock(sandbox)) as container:
        broker = container.broker
        read = broker.candles

        def counted(product_id: str, granularity: Granularity, first: datetime, end: datetime) -> list[Candle]:
            asked.append((first, end))
            return read(product_id, granularity, first, end)

        monkeypatch.setattr(broker, "candles", counted)
        bot = container.create_bot(watcher)
        assert bot.bootstrap().ok
        bot.shutdown()
        at_start, fed = list(asked), watcher.fed
        venue = {
            c.time: c for c in closed_candles(broker, PID, Granularity.ONE_MINUTE, fed[0].time, fed[-1].time + MINUTE)
        }
    return Start(fed, at_start, venue)


def cache_file(data: Path, venue: str = "sandbox") -> Path:
    return CandleCache.of(data, venue).path(PID, Granularity.ONE_MINUTE)


def same_as_the_venue(started: Start) -> bool:
    return [(b.time, b.open, b.high, b.low, b.close, b.volume) for b in started.fed] == [
        (c.time, float(c.open), float(c.high), float(c.low), float(c.close), float(c.volume))
        for c in (started.venue[b.time] for b in started.fed)
    ]


@pytest.fixture
def config(market: RunningSandbox, tmp_path: Path) -> BotConfig:
    return paper_config(market, tmp_path, symbols=[PID])


def test_a_second_start_asks_the_venue_only_for_the_bars_since_the_first(
    market: RunningSandbox, config: BotConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = start(market, config, monkeypatch)
    market.advance_to(START + 5 * MINUTE)
    second = start(market, config, monkeypatch)

    assert len(first.fed) >= WARM_UP
    assert len(second.fed) == len(first.fed)
    assert len(first.asked) >= 2  # the warm-up's 422 minutes are two pages at least
    # The seed's and the warm-up's: each the bars since those kept, with the last two kept asked again
    assert second.asked == [(START - 2 * MINUTE, START + 5 * MINUTE), (START + 3 * MINUTE, START + 5 * MINUTE)]
    assert same_as_the_venue(first)
    assert same_as_the_venue(second)
    assert second.fed[-1].time == first.fed[-1].time + 5 * MINUTE


def test_a_cache_file_that_cannot_be_read_is_read_around_and_replaced(
    market: RunningSandbox,
    config: BotConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = cache_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PAR1 not a parquet file")
    with caplog.at_level(logging.WARNING, logger="gpttrader.engine.history"):
        started = start(market, config, monkeypatch)

    assert len(started.fed) >= WARM_UP
    assert same_as_the_venue(started)
    assert f"the candle cache {path} cannot be read" in caplog.text
    kept = read_candle_file(path)
    assert kept["time"].iloc[0] <= pd.Timestamp(started.fed[0].time)
    assert kept["time"].iloc[-1] == pd.Timestamp(START - MINUTE)


def test_a_cache_of_another_market_is_replaced_by_the_venues_candles(
    market: RunningSandbox,
    config: BotConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A sandbox started again (a new path under the same times) finds the old one's candles kept."""
    first = start(market, config, monkeypatch)
    path = cache_file(tmp_path)
    other = read_candle_file(path)
    other[["open", "high", "low", "close"]] *= 2
    CandleCache.of(tmp_path, "sandbox").write(PID, Granularity.ONE_MINUTE, other)
    with caplog.at_level(logging.WARNING, logger="gpttrader.engine.history"):
        second = start(market, config, monkeypatch)

    assert f"the cached BTC-USD ONE_MINUTE candles at {path} are not the venue's" in caplog.text
    assert same_as_the_venue(second)
    assert [b.close for b in second.fed] == [b.close for b in first.fed]
    assert read_candle_file(path)["close"].tolist() == (other["close"] / 2).tolist()


def test_the_bucket_still_forming_is_never_kept(
    market: RunningSandbox, config: BotConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = START + 90 * timedelta(seconds=1)  # mid-minute: 14:01 is forming
    market.advance_to(now)
    started = start(market, config, monkeypatch)

    with ApplicationContainer(config, clock=SandboxClock(market)) as container:
        forming = container.broker.candles(PID, Granularity.ONE_MINUTE, START, now)
    assert [c.time for c in forming] == [START, START + MINUTE]  # the venue serves it when asked
    assert started.fed[-1].time == START - MINUTE  # the last closed one is the first cycle's to decide
    assert read_candle_file(cache_file(tmp_path))["time"].iloc[-1] == pd.Timestamp(START)


def test_the_sandboxs_candles_and_coinbases_are_kept_apart(
    market: RunningSandbox, config: BotConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Coinbase's cache, holding other prices over the same minutes, is neither read nor written."""
    times = pd.date_range(START - 1000 * MINUTE, START, freq="1min", inclusive="left", tz="UTC")
    coinbase = to_frame([Candle(PID, t.to_pydatetime(), *[Decimal(1)] * 5) for t in times])
    production = CandleCache.of(tmp_path, "coinbase").write(PID, Granularity.ONE_MINUTE, coinbase)
    written = production.read_bytes()
    started = start(market, config, monkeypatch)

    assert same_as_the_venue(started)
    assert production.read_bytes() == written
    assert cache_file(tmp_path).is_file()
    assert read_candle_file(cache_file(tmp_path))["close"].min() > 1
