"""A dev session with Kelly sizing: its record is seeded at start by a backtest of its strategy on the
recent bars, each round trip it closes is counted, its regimes are the detector's on its own bars, and it
trades: at the floor while its record is short, at Kelly's size once the record shows an edge. It made no
order at all before (every order sized 0, `no_edge_estimate`)."""

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from gpttrader.app import ApplicationContainer
from gpttrader.app.commands.risk import sizing_lines
from gpttrader.backtest.seed import seed_trips
from gpttrader.config import load_config
from gpttrader.domain import Product
from gpttrader.engine.clock import FastClock
from gpttrader.risk.edge import ClosedTrip
from gpttrader.store import Event

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CYCLES = 60


def session(data: Path, **sizing: Any) -> ApplicationContainer:
    overrides = {"data_dir": data, "symbols": ["BTC-USD", "ETH-USD"], "sizing": {"method": "kelly", **sizing}}
    return ApplicationContainer(load_config("dev", overrides=overrides, env={}), clock=FastClock(START))


def run(container: ApplicationContainer, seed: Any = None) -> list[Event]:
    bot = container.create_bot()
    if seed is not None:
        container.risk_manager.edge_seed = seed
    bot.bootstrap()
    bot.run(max_cycles=CYCLES)
    bot.shutdown()
    return list(container.event_store.read())


def of(events: list[Event], kind: str) -> list[Event]:
    return [e for e in events if e.type == kind]


def test_a_short_record_trades_at_the_floor_and_says_so(tmp_path: Path) -> None:
    container = session(tmp_path, kelly_min_trades=1000)
    with container:
        events = run(container)
        orders = container.orders_store.all_orders()
    assert orders, "a Kelly session made no order"
    sized = of(events, "risk.sizing_cut")
    assert sized
    assert all(
        any(r.startswith("kelly_floor_") and r.endswith("_of_1000_trades") for r in e.payload["reasons"]) for e in sized
    )
    assert all("no_edge_estimate" not in e.payload["reasons"] for e in sized)


def test_the_record_is_seeded_by_a_backtest_and_counts_the_sessions_trips(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    def recording(
        strategy: Any, candles: Mapping[str, pd.DataFrame], products: Mapping[str, Product], fee_rate: Decimal
    ) -> list[ClosedTrip]:
        seen.update(candles=dict(candles), fee_rate=fee_rate, strategy=strategy)
        return seed_trips(strategy, candles, products, fee_rate)

    container = session(tmp_path)
    with container:
        events = run(container, recording)
        risk = container.risk_manager
        [seeded] = of(events, "risk.edge_seed")
        assert seeded.payload["bars"] == {"BTC-USD": 1440, "ETH-USD": 1440}  # sizing.edge_seed_bars of history
        frames = seen["candles"]
        assert all(frame["time"].iloc[-1] < pd.Timestamp(START) for frame in frames.values())  # closed bars only
        again = seed_trips(
            seen["strategy"], frames, {pid: container.broker.product(pid) for pid in frames}, seen["fee_rate"]
        )
        assert seeded.payload["trips"] == len(again) > 0
        announced = [e for e in of(events, "risk.edge_estimate") if e.payload.get("source") == "seed"]
        assert sum(e.payload["trades"] for e in announced) == len(again)
        live = Counter(e.payload["product_id"] for e in of(events, "risk.edge_estimate") if "fraction" in e.payload)
        for pid in ("BTC-USD", "ETH-USD"):
            seeded_count = sum(1 for _, product, _ in again if product == pid)
            assert risk.edge.estimate("baseline", pid, risk.clock()).trades == seeded_count + live[pid]
        regimes = of(events, "risk.regime")
        assert {e.payload["product_id"] for e in regimes} == {"BTC-USD", "ETH-USD"}
        lines = sizing_lines(container.event_store, "kelly")
    assert any("baseline" in line and "BTC-USD" in line and "trades" in line for line in lines)
    assert any(line.strip().startswith("ETH-USD") for line in lines)
    rates = container.broker.fee_rates()
    assert lines[0] == f"sizing kelly: fee rates {rates.tier}: maker {rates.maker}, taker {rates.taker}"


def test_once_the_record_shows_an_edge_kelly_sizes_the_orders(tmp_path: Path) -> None:
    """A seed showing an edge (30 trips, 20 won at 3%, 10 lost at 1%): past the minimum record, the orders
    are Kelly's size, not the floor's."""

    def edge(
        strategy: Any, candles: Mapping[str, pd.DataFrame], products: Mapping[str, Product], fee_rate: Decimal
    ) -> list[ClosedTrip]:
        at = START.replace(hour=1)
        return [(at, pid, Decimal("0.03") if i % 3 else Decimal("-0.01")) for pid in candles for i in range(30)]

    container = session(tmp_path, kelly_min_trades=20)
    with container:
        events = run(container, edge)
        orders = container.orders_store.all_orders()
    assert orders
    sized = of(events, "risk.sizing_cut")  # Kelly's 0.44 is always cut to its cap: every sizing is recorded
    assert sized
    assert all("kelly_cap" in e.payload["reasons"] for e in sized)
    assert all(not any(r.startswith("kelly_floor") for r in e.payload["reasons"]) for e in sized)
    assert all(e.payload["trades"] >= 30 for e in sized)
    # Kelly's cap 0.25 times the regime's scale (at least 0.25): beyond four floors of 0.01
    assert max(Decimal(e.payload["fraction"]) for e in sized) > 4 * Decimal("0.01")
