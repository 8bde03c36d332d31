"""Research-to-live parity: one strategy object, one price path (a slice of the shipped BTC-USD sample,
replayed by the sandbox on a virtual clock), three venues: the backtest, a paper session and a canary
session through the Coinbase broker. Their decision streams (time, product, side, size) must be identical;
fill prices and PnL differ, and the test reports by how much and why."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.backtest import BacktestResult, run_backtest
from gpttrader.brokers.coinbase import create_market_data
from gpttrader.config import BotConfig, load_config
from gpttrader.config.guards import Guards
from gpttrader.domain import Granularity
from gpttrader.domain.client_ids import ClientIds
from gpttrader.domain.events import EventType
from gpttrader.risk import LiveRiskManager, MemoryJournal
from gpttrader.sandbox import RunningSandbox
from gpttrader.strategy import Bar, MovingAverageCross
from tests.integration.engine.conftest import sandbox_env
from tests.integration.sandbox.conftest import SandboxFactory

ROOT = Path(__file__).resolve().parents[3]
START = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # the canary's window opens
CYCLES = 55
Decision = tuple[datetime, str, str, Decimal]


def sandbox_for(start_sandbox: SandboxFactory) -> RunningSandbox:
    return start_sandbox(
        virtual_start=START.timestamp(),
        speed=1.0,
        candle_files={"BTC-USD": ROOT / "data" / "sample" / "BTC-USD_1m.parquet"},
    )


def config_for(profile: str, sandbox: RunningSandbox, data: Path) -> BotConfig:
    """The profile as shipped, on the sandbox, with every guard off (this test is about the decisions, not
    the guards) and 0.005 BTC per position (under the canary's $500 cap)."""
    env = sandbox_env(sandbox, key=profile == "canary")
    return load_config(
        profile,
        overrides={
            "data_dir": data,
            "symbols": ["BTC-USD"],
            "strategy": {"name": "ma_cross", "params": {"fast": 3, "slow": 8}},
            "sizing": {"method": "fixed_fraction", "fraction": "1"},
            "risk": {
                "max_position_size": {"BTC-USD": "0.005"},
                "max_position_fraction": "1",
                "max_exposure_fraction": "1",
            },
            "guards": {name: {"enabled": False} for name in Guards.model_fields},
            "coinbase": {"public_requests_per_second": 1000, "private_requests_per_second": 1000, "websocket": False},
        },
        env=env,
    )


def session(config: BotConfig, sandbox: RunningSandbox) -> tuple[list[Decision], list[dict[str, Any]], str]:
    with ApplicationContainer(config, clock=SandboxClock(sandbox)) as container:
        bot = container.create_bot()
        assert bot.bootstrap().ok
        bot.run(max_cycles=CYCLES)
        summary = bot.shutdown()
        decisions = [
            (
                datetime.fromisoformat(e.payload["bar_time"]),
                e.payload["product_id"],
                e.payload["side"],
                Decimal(e.payload["size"]),
            )
            for e in container.event_store.read(types=[EventType.STRATEGY_DECISION])
        ]
        fills = [
            {"time": f.time, "side": f.side.value, "price": f.price, "size": f.size, "fee": f.fee}
            for f in container.orders_store.fills()
        ]
        return decisions, fills, summary.equity


@dataclass(frozen=True)
class FromBar:
    """The strategy, flat before `first` (as a bot that starts then is): same state, no earlier trades."""

    inner: MovingAverageCross
    first: datetime
    name: str = "ma_cross"

    @property
    def warmup(self) -> int:
        return self.inner.warmup

    def targets(self, candles: pd.DataFrame) -> np.ndarray:
        targets = self.inner.targets(candles).copy()
        targets[pd.to_datetime(candles["time"], utc=True) < pd.Timestamp(self.first)] = 0.0
        return targets

    def new_state(self) -> Any:
        return self.inner.new_state()

    def on_bar(self, bar: Bar, state: Any) -> Any:
        raise NotImplementedError("the parity backtest runs vectorized")


def backtest(
    config: BotConfig, sandbox: RunningSandbox, first: datetime
) -> tuple[list[Decision], BacktestResult, pd.DataFrame]:
    """The same strategy over the bars the sessions saw, read back from the exchange."""
    market = create_market_data(config)
    end = START + timedelta(minutes=CYCLES + 1)
    candles = []
    cursor = START - timedelta(hours=3)
    while cursor < end:
        stop = min(cursor + timedelta(minutes=300), end)
        candles += market.candles("BTC-USD", Granularity.ONE_MINUTE, cursor, stop)
        cursor = stop
    frame = pd.DataFrame(
        {
            "time": [c.time for c in candles],
            **{k: [float(getattr(c, k)) for c in candles] for k in ("open", "high", "low", "close", "volume")},
        }
    )
    risk = LiveRiskManager.from_config(config, MemoryJournal())
    strategy = FromBar(MovingAverageCross(3, 8), first)
    result = run_backtest(strategy, frame, product_id="BTC-USD", initial_cash=Decimal(100_000), risk=risk)  # type: ignore[arg-type]
    ids = ClientIds("bt")
    decisions = [
        (ids.bar_time(o.client_order_id, o.product_id), o.product_id, o.side.value, o.size) for o in result.orders
    ]
    return decisions, result, frame


@pytest.mark.slow
def test_backtest_paper_and_canary_decide_the_same(start_sandbox: SandboxFactory, tmp_path: Path) -> None:
    paper_sandbox, canary_sandbox = sandbox_for(start_sandbox), sandbox_for(start_sandbox)
    paper_config = config_for("paper", paper_sandbox, tmp_path / "paper")
    canary_config = config_for("canary", canary_sandbox, tmp_path / "canary")
    paper, paper_fills, paper_equity = session(paper_config, paper_sandbox)
    canary, canary_fills, canary_equity = session(canary_config, canary_sandbox)
    assert paper, "the session should decide something"
    first = min(d[0] for d in paper)
    tested, result, _ = backtest(canary_config, canary_sandbox, START - timedelta(minutes=1))
    session_window = [d for d in tested if d[0] >= START - timedelta(minutes=1)]
    assert paper == canary == session_window
    assert first >= START - timedelta(minutes=1)
    report(paper_fills, canary_fills, result, paper_equity, canary_equity)


def report(
    paper: list[Mapping[str, Any]], canary: list[Mapping[str, Any]], result: BacktestResult, *equities: str
) -> None:
    """Print how far the fills are apart, and hold them to what the venues explain: the backtest fills at the
    next bar's open with the default fee; paper at the quote the bot saw (the sandbox's mid, the same
    instant) through the same fill model; the canary against the sandbox's book (half its spread away)
    and its fee tier."""
    backtest_fills = [{"price": f.price, "side": f.side.value, "fee": f.fee} for f in result.fills]
    assert len(paper) == len(canary) == len(backtest_fills)
    print("\nfill  side  backtest     paper        canary       paper-bt(bps)  canary-bt(bps)")
    worst = Decimal(0)
    for i, (b, p, c) in enumerate(zip(backtest_fills, paper, canary, strict=True)):
        assert b["side"] == p["side"] == c["side"]
        apart = [(x["price"] - b["price"]) / b["price"] * 10_000 for x in (p, c)]
        worst = max(worst, *(abs(a) for a in apart))
        prices = f"{b['price']:<11}  {p['price']:<11}  {c['price']:<11}"
        print(f"{i:>4}  {b['side']:<4}  {prices}  {apart[0]:>13.2f}  {apart[1]:>14.2f}")
    print(f"final equity: paper {equities[0]}, canary {equities[1]}; backtest PnL {result.final_equity - 100_000:.2f}")
    assert worst < 25, f"fills {worst:.1f} bps apart: more than a spread and the 20 bps slippage tolerance explain"
