"""A strategy watching wider bars than it decides on sees each one once it has closed, the same in a paper
session against the sandbox (public candles through the Coinbase adapter, a virtual clock) and in the
backtest of the same candles, although the backtest's history starts hours earlier than the live warm-up."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.backtest import run_backtest
from gpttrader.config import load_config
from gpttrader.domain import Granularity
from gpttrader.engine.history import closed_candles
from gpttrader.marketdata.frames import to_frame
from gpttrader.strategy import Bar, OrderIntent
from tests.integration.engine.conftest import sandbox_env
from tests.integration.sandbox.conftest import SandboxFactory

START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
PID = "BTC-USD"
Delivery = tuple[datetime, str, datetime, float, float, float, float]  # at, width, bucket, o, h, l, c


@dataclass
class Watcher:
    """Decides nothing; keeps each wider bar with the bar whose decision it came before."""

    warmup: int = 100
    name: str = "watcher"
    higher_timeframes: tuple[Granularity, ...] = (Granularity.FIFTEEN_MINUTE, Granularity.ONE_HOUR)
    pending: list[tuple[Granularity, Bar]] = field(default_factory=list)
    delivered: list[Delivery] = field(default_factory=list)
    decided: list[datetime] = field(default_factory=list)

    def new_state(self) -> None:
        return None

    def on_higher_bar(self, bar: Bar, granularity: Granularity, state: None) -> None:
        self.pending.append((granularity, bar))

    def on_bar(self, bar: Bar, state: None) -> tuple[OrderIntent, ...]:
        for granularity, wider in self.pending:
            self.delivered.append(
                (bar.time, granularity.value, wider.time, wider.open, wider.high, wider.low, wider.close)
            )
        self.pending.clear()
        self.decided.append(bar.time)
        return ()


def test_wider_bars_are_seen_once_closed_identically_live_and_in_the_backtest(
    start_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = start_sandbox(virtual_start=START.timestamp(), speed=1.0)
    config = load_config(
        "paper",
        overrides={
            "data_dir": tmp_path,
            "symbols": [PID],
            "coinbase": {"public_requests_per_second": 1000, "websocket": False},
        },
        env=sandbox_env(sandbox, key=False),
    )
    live = Watcher()
    with ApplicationContainer(config, clock=SandboxClock(sandbox)) as container:
        bot = container.create_bot(live)
        assert bot.bootstrap().ok
        bot.run(max_cycles=130)
        bot.shutdown()
        last = live.decided[-1]
        history = closed_candles(
            container.broker, PID, Granularity.ONE_MINUTE, START - timedelta(hours=5), last + MINUTE
        )
    backtest = Watcher()
    run_backtest(backtest, to_frame(history), product_id=PID, mode="step")

    first = live.decided[0]  # the live warm-up began here, inside a quarter and an hour
    assert first.minute % 15 != 0
    hours = [d for d in live.delivered if d[1] == "ONE_HOUR"]
    quarters = [d for d in live.delivered if d[1] == "FIFTEEN_MINUTE"]
    for granularity, seen in ((Granularity.ONE_HOUR, hours), (Granularity.FIFTEEN_MINUTE, quarters)):
        width = granularity.width
        buckets = [granularity.bucket(first) + width * n for n in range(1 + (last - first) // width)]
        whole = [b for b in buckets if first <= b and b + width <= last + MINUTE]
        assert [d[2] for d in seen] == whole  # every bucket wholly inside the session, none begun before it
    assert len(hours) >= 3
    for at, width, bucket, *_ in live.delivered:  # delivered with the decision on the bucket's last minute
        assert at + MINUTE == bucket + Granularity[width].width
    assert live.delivered == [d for d in backtest.delivered if first <= d[2] and d[0] <= last]
