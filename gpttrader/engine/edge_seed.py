"""A bot's sizing inputs at start: its strategy's edge record and its products' market regimes, from the
recent history of the bars the strategy trades on (the strategy coordinator's, at its granularity).

The strategy warm-up's few bars are not enough for either: the edge wants round trips, which a strategy
makes only every so many hours, and the regime wants its volatility's history. So the last
`sizing.edge_seed_bars` bars of each product are read (in pages, Coinbase serving at most 350 bars a
request; through the coordinator's candle cache, which the warm-up then reads), the regime detectors
classify them, and (Kelly sizing only: no other sizer reads an edge) the strategy is backtested on them
through the backtest's engine at the bot's fee rate, each round trip it closes going to the record. From
then on each closed bar goes to the detectors and each round trip the bot closes to the record. A history
that cannot be read starts nothing on a guess: the record starts empty (Kelly sizes at its floor) and the
failure is recorded.
"""

import logging
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from gpttrader.brokers.errors import BrokerError
from gpttrader.brokers.protocol import Broker
from gpttrader.config.models import SizingConfig
from gpttrader.domain import Product
from gpttrader.domain.events import EventType
from gpttrader.engine.history import closed_candles, seed_bars
from gpttrader.engine.strategy_coordinator import StrategyCoordinator
from gpttrader.marketdata.frames import to_frame
from gpttrader.risk import LiveRiskManager

log = logging.getLogger(__name__)


def seed_edges(
    broker: Broker,
    risk: LiveRiskManager,
    coordinator: StrategyCoordinator,
    products: Mapping[str, Product],
    *,
    sizing: SizingConfig,
    fee_rate: Decimal,
    now: datetime,
    live_since: datetime | None = None,
    run_id: str | None = None,
) -> int:
    """Seed the regimes and (Kelly) the edge record from history, then wire the live bars to the regime
    detectors and announce the record; returns how many round trips the seed backtest closed. The seed
    backtest stops at `live_since`, the bot's first fill: from there its own trips are in the record, and
    simulating the same bars again would count the same market twice."""
    coordinator.on_close = risk.observe_bar
    kelly = sizing.method == "kelly" and sizing.edge_seed_bars > 0 and risk.edge_seed is not None
    bars = seed_bars(sizing, risk.regime_settings.lookback, kelly=kelly)
    exchange_now = coordinator.skew.exchange_time(now)
    start = coordinator.granularity.bucket(exchange_now) - coordinator.bar * bars
    try:
        history = {
            pid: closed_candles(broker, pid, coordinator.granularity, start, exchange_now, coordinator.cache)
            for pid in products
        }
    except BrokerError as exc:
        log.warning("the seed history could not be read: %s; sizing starts from an empty record", exc)
        risk.journal.append(
            EventType.RISK_EDGE_SEED, {"bars": 0, "trips": 0, "error": str(exc)}, run_id=run_id, time=now
        )
        risk.announce_edges(now, source="record")
        return 0
    for pid, candles in history.items():
        risk.observe_bars(pid, [c.time for c in candles], [float(c.close) for c in candles])
    trips = []
    frames = {
        pid: to_frame(before)
        for pid, candles in history.items()
        # The seed backtest runs on the last `edge_seed_bars` of them: the regimes read further back.
        if (
            before := [c for c in candles if live_since is None or c.time + coordinator.bar <= live_since][
                -sizing.edge_seed_bars :
            ]
        )
    }
    if kelly and risk.edge_seed is not None and frames:
        trips = risk.edge_seed(coordinator.strategy, frames, products, fee_rate)
        for at, pid, fraction in trips:
            risk.record_trip(coordinator.strategy.name, pid, fraction, at)
    payload = {"bars": {pid: len(c) for pid, c in history.items()}, "trips": len(trips), "backtest": kelly}
    risk.journal.append(EventType.RISK_EDGE_SEED, payload, run_id=run_id, time=now)
    risk.announce_edges(now, source="seed")
    return len(trips)
