"""Research-to-live parity, as the parity tests share it: one strategy object, one price path (a slice of the
shipped BTC-USD sample, replayed by the sandbox on a virtual clock), three venues: the backtest of the bars
the sessions saw, a paper session and a canary session through the Coinbase adapter. Their decision streams
(bar, product, side, size) are compared; fills and equity are reported.

A helper module, not a test module: import from it freely.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.backtest import BacktestResult, run_backtest
from gpttrader.backtest.seed import seed_trips
from gpttrader.config import BotConfig, load_config
from gpttrader.config.guards import Guards
from gpttrader.domain import Granularity, OrderType, Product
from gpttrader.domain.client_ids import ClientIds
from gpttrader.domain.events import EventType
from gpttrader.engine.history import closed_candles
from gpttrader.marketdata.frames import to_frame
from gpttrader.risk import LiveRiskManager, MemoryJournal
from gpttrader.sandbox import RunningSandbox
from gpttrader.strategy import Bar, OrderStrategy, Strategy
from tests.integration.engine.sessions import sandbox_env
from tests.integration.sandbox.conftest import SandboxFactory

ROOT = Path(__file__).resolve().parents[3]
START = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # the canary's window opens
Decision = tuple[datetime, str, str, Decimal]


def sandbox_for(start_sandbox: SandboxFactory, start: datetime = START, **settings: Any) -> RunningSandbox:
    """The sandbox replaying the BTC-USD sample (its futures and perpetuals track it) from `start`."""
    return start_sandbox(
        virtual_start=start.timestamp(),
        speed=1.0,
        candle_files={"BTC-USD": ROOT / "data" / "sample" / "BTC-USD_1m.parquet"},
        **settings,
    )


def config_for(
    profile: str, sandbox: RunningSandbox, data: Path, env: dict[str, str] | None = None, **overrides: Any
) -> BotConfig:
    """The profile as shipped, on the sandbox, with every guard off (unless `overrides` say otherwise) and
    0.005 BTC per position (under the canary's $500 cap); `overrides` are merged section by section."""
    settings: dict[str, Any] = {
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
    }
    for key, value in overrides.items():
        settings[key] = {**settings[key], **value} if isinstance(settings.get(key), dict) else value
    return load_config(profile, overrides=settings, env=sandbox_env(sandbox, key=profile == "canary", **(env or {})))


@dataclass
class Session:
    decisions: list[Decision]
    fills: list[dict[str, Any]]
    equity: str
    first_bar: datetime  # the first bar the session decided on
    last_bar: datetime


def session(config: BotConfig, sandbox: RunningSandbox, strategy: Strategy | OrderStrategy, cycles: int) -> Session:
    seen: list[datetime] = []
    with ApplicationContainer(config, clock=SandboxClock(sandbox)) as container:
        bot = container.create_bot(Recorded(strategy, seen))  # type: ignore[arg-type]
        assert bot.bootstrap().ok
        warmed = len(seen)
        bot.run(max_cycles=cycles)
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
    return Session(decisions, fills, summary.equity, seen[warmed], seen[-1])


@dataclass(frozen=True)
class Wrapped:
    """A strategy seen through another: everything it has (its name, warm-up, wider bars) is its own."""

    inner: Any

    @property
    def name(self) -> str:
        return str(self.inner.name)

    @property
    def warmup(self) -> int:
        return int(self.inner.warmup)

    def __getattr__(self, attribute: str) -> Any:  # higher_timeframes, on_higher_bar
        if attribute.startswith("__") or attribute == "inner":
            raise AttributeError(attribute)
        return getattr(self.inner, attribute)

    def new_state(self) -> Any:
        return self.inner.new_state()


@dataclass(frozen=True)
class Recorded(Wrapped):
    """The strategy as it is, noting the time of each bar it is given (warm-up included)."""

    seen: list[datetime] = field(default_factory=list)

    def on_bar(self, bar: Bar, state: Any) -> Any:
        self.seen.append(bar.time)
        return self.inner.on_bar(bar, state)


def history(
    config: BotConfig, sandbox: RunningSandbox, start: datetime, end: datetime
) -> tuple[Product, Decimal, pd.DataFrame]:
    """The traded product, the account's taker rate and the bars of the strategy's granularity from `start` to
    `end`, read back from the exchange."""
    pid = config.symbols[0]
    with ApplicationContainer(config, clock=SandboxClock(sandbox)) as container:
        candles = closed_candles(container.broker, pid, config.strategy.granularity, start, end)
        product, fee = container.broker.product(pid), container.broker.fee_rates().taker
    return product, fee, to_frame(candles)


def backtest(
    config: BotConfig,
    product: Product,
    frame: pd.DataFrame,
    strategy: Strategy | OrderStrategy,
    first: datetime,
    fee: Decimal,
    mode: str = "step",
) -> tuple[list[Decision], BacktestResult]:
    """The strategy over `frame`, through a replica of the session's risk manager, flat before `first` (as a
    bot that starts then is); its decided orders (exits aside) as the sessions record theirs."""
    risk = LiveRiskManager.from_config(config, MemoryJournal())
    if config.sizing.method == "kelly":
        # Seeded as the bot seeds its record at start (engine.edge_seed): the strategy's trips over the last
        # `edge_seed_bars` bars up to the first it decides on, at the bot's fee rate.
        bar = config.strategy.granularity.width
        window = frame[(frame["time"] > first - bar * config.sizing.edge_seed_bars) & (frame["time"] <= first)]
        for at, pid, fraction in seed_trips(strategy, {product.product_id: window}, {product.product_id: product}, fee):
            risk.record_trip(strategy.name, pid, fraction, at)
    flat = FlatBeforeTargets(strategy, first) if isinstance(strategy, Strategy) else FlatBefore(strategy, first)
    result = run_backtest(
        flat,  # type: ignore[arg-type]
        frame,
        product_id=product.product_id,
        products={product.product_id: product},
        initial_cash=Decimal(100_000),
        risk=risk,
        mode=mode,  # type: ignore[arg-type]
    )
    ids = ClientIds("bt")
    # What was decided, as live records it before the risk manager: the orders sent (exits aside: they are
    # not decisions) and those the manager refused.
    sent = [
        (o.client_order_id, o.product_id, o.side.value, o.size)
        for o in result.orders
        if o.order_type is not OrderType.BRACKET
    ]
    refused = result.risk_frame(("risk.order_rejected",))
    sent += [(r["client_order_id"], r["product_id"], r["side"], Decimal(r["size"])) for r in refused.to_dict("records")]
    decided = sorted((at, pid, side, size) for cid, pid, side, size in sent if (at := ids.bar_time(cid, pid)))
    return decided, result


@dataclass(frozen=True)
class FlatBefore(Wrapped):
    """A strategy that decides nothing on bars before `first` (its state still sees them)."""

    first: datetime = START

    def on_bar(self, bar: Bar, state: Any) -> Any:
        decided = self.inner.on_bar(bar, state)
        if bar.time >= self.first:
            return decided
        return () if isinstance(decided, tuple) else type(decided)(decided.product_id, 0.0, 0.0, "before the start")


@dataclass(frozen=True)
class FlatBeforeTargets(FlatBefore):
    """A target strategy's, with its vectorized form (the fast path) flat before `first` too."""

    def targets(self, candles: pd.DataFrame) -> np.ndarray:
        targets = np.array(self.inner.targets(candles), dtype=float)
        targets[pd.to_datetime(candles["time"], utc=True) < pd.Timestamp(self.first)] = 0.0
        return targets


def bar_width(config: BotConfig) -> timedelta:
    return Granularity(config.strategy.granularity).width
