"""The start of a bot's edge record: its strategy backtested on the recent history of its own bars.

The strategy alone (no risk manager, all-in on equal shares): what is wanted is the strategy's edge, the
return of each round trip it makes, and a position's size hardly changes that; the guards and checks
would only drop trips. The fee model charges every fill the bot's own rate, which is what the bot assumes
live. Implements `gpttrader.risk.edge.EdgeSeed`.
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pandas as pd

from gpttrader.backtest.runner import run_backtest
from gpttrader.brokers.simulated import FeeSchedule, FillModel
from gpttrader.domain import Product
from gpttrader.risk.edge import ClosedTrip


def seed_trips(
    strategy: Any, candles: Mapping[str, pd.DataFrame], products: Mapping[str, Product], fee_rate: Decimal
) -> list[ClosedTrip]:
    """The round trips `strategy` closes on `candles`, through the backtest's engine at `fee_rate`."""
    frames = {pid: frame for pid, frame in candles.items() if not frame.empty}
    if not frames:
        return []
    fees = FeeSchedule(maker=fee_rate, taker=fee_rate, tier_name="the bot's rate")
    result = run_backtest(strategy, frames, products=products, fill_model=FillModel(fees=fees))
    return list(result.trip_returns)
