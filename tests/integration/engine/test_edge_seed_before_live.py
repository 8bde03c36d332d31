"""The start-up seed backtest stops at the bot's first fill: from there its own trips are in the edge record,
and simulating the same bars again would count the same market twice (found by a red-team pass)."""

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from gpttrader.app import ApplicationContainer
from gpttrader.backtest.seed import seed_trips
from gpttrader.config import load_config
from gpttrader.domain import Product
from gpttrader.domain.events import EventType
from gpttrader.engine.clock import FastClock
from gpttrader.risk.edge import ClosedTrip

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _container(data: Path, start: datetime) -> ApplicationContainer:
    overrides = {
        "data_dir": data,
        "symbols": ["BTC-USD", "ETH-USD"],
        "sizing": {"method": "kelly", "kelly_min_trades": 1000},
    }
    return ApplicationContainer(load_config("dev", overrides=overrides, env={}), clock=FastClock(start))


def test_a_restart_never_counts_the_same_market_twice_in_the_edge_record(tmp_path: Path) -> None:
    with _container(tmp_path, START) as container:
        bot = container.create_bot()
        container.risk_manager.edge_seed = seed_trips
        bot.bootstrap()
        bot.run(max_cycles=180)
        bot.shutdown()
        live = [
            (e.time, e.payload["product_id"])
            for e in container.event_store.read(types=[EventType.RISK_EDGE_ESTIMATE])
            if "fraction" in e.payload
        ]
        restart_at = bot.clock.now()
    assert live, "the first session closed no round trip"

    seeded: list[ClosedTrip] = []

    def recording(strategy: Any, candles: Mapping[str, pd.DataFrame], products: Mapping[str, Product], fee: Decimal):
        trips = seed_trips(strategy, candles, products, fee)
        seeded.extend(trips)
        return trips

    with _container(tmp_path, restart_at) as container:
        bot = container.create_bot()
        container.risk_manager.edge_seed = recording
        bot.bootstrap()
        risk = container.risk_manager
        counted = sum(e.trades for e in risk.edge.estimates(risk.clock()))
        bot.shutdown()
    first_live = min(t for t, _ in live)
    overlapping = [t for t, _, _ in seeded if t >= first_live]
    assert not overlapping or counted <= len(seeded) - len(overlapping) + len(live), (
        f"the record counts {counted} trips: {len(live)} live ones booked again plus {len(overlapping)} simulated "
        f"trips over the very bars the live ones traded"
    )
