"""The backtest pursues a target as live does: a refused order is tried again on the bars live would try it,
each bar is decided once however many reasons there are to look at it, and a retry that finds nothing it
can order ends the wait rather than asking again forever."""

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from gpttrader.backtest import run_backtest
from gpttrader.brokers.simulated import FeeSchedule, FillModel
from gpttrader.config import load_config
from gpttrader.config.guards import Guards
from gpttrader.domain import Product
from gpttrader.risk import LiveRiskManager, MemoryJournal
from gpttrader.strategy import Bar, TargetPosition

FREE = FillModel(fees=FeeSchedule(maker=Decimal(0), taker=Decimal(0)))
COIN = Product("ABC-USD", "ABC", "USD", Decimal("0.001"), Decimal("0.01"), Decimal("0.001"), Decimal(10**6), Decimal(0))


@dataclass(frozen=True)
class Scripted:
    """The target of `plan` from the bar of each index on (0 before the first)."""

    plan: tuple[float, ...]
    name: str = "scripted_targets"
    warmup: int = 1

    def targets(self, candles: pd.DataFrame) -> np.ndarray:
        return np.array(self.plan[: len(candles)], dtype=float)

    def new_state(self) -> list[int]:
        return [0]

    def on_bar(self, bar: Bar, state: list[int]) -> TargetPosition:
        state[0] += 1
        return TargetPosition(bar.product_id, self.plan[state[0] - 1], 1.0, "scripted")


def minutes(closes: list[float]) -> pd.DataFrame:
    times = pd.date_range("2026-01-01", periods=len(closes), freq="1min", tz="UTC")
    return pd.DataFrame({"time": times, "open": closes, "high": closes, "low": closes, "close": closes, "volume": 1e9})


def manager(window: dict[str, str] | None = None, **order_limits: int) -> LiveRiskManager:
    limits = {"per_minute": 100, "per_hour": 1000, "per_day": 1000, "min_interval_seconds": 0, **order_limits}
    config = load_config(
        "paper",
        overrides={
            "symbols": ["ABC-USD"],
            "sizing": {"method": "fixed_fraction", "fraction": "1"},
            "risk": {"limits_file": None, "max_position_fraction": 1, "max_exposure_fraction": 1},
            "trading_window": window,
            "guards": {name: {"enabled": False} for name in Guards.model_fields},
            "order_limits": limits,
        },
        env={},
    )
    return LiveRiskManager.from_config(config, MemoryJournal())


@pytest.mark.timeout(60)
@pytest.mark.parametrize("mode", ["fast", "step"])
def test_a_retry_that_can_no_longer_order_anything_ends_the_wait(mode: str) -> None:
    """Refused at first (outside the trading window, which opens a minute later), the buy is tried again a
    bar later, when the price has risen a thousandfold and the cash buys less than the product's minimum:
    nothing to order, the goal is what is held, and the run goes on (it once asked again, for ever, on the
    same bar)."""
    plan = (0.0, 1.0, 1.0, 1.0, 1.0, 1.0)
    closes = [100.0, 100.0, 100.0, 100_000.0, 100_000.0, 100_000.0]
    result = run_backtest(
        Scripted(plan),
        minutes(closes),
        product_id=COIN.product_id,
        products={COIN.product_id: COIN},
        initial_cash=Decimal(50),
        fill_model=FREE,
        risk=manager({"start": "00:03", "end": "23:00"}),
        mode=mode,  # type: ignore[arg-type]
    )
    refused = result.risk_frame(("risk.order_rejected",))
    assert len(refused) == 1  # the first attempt; the retry found nothing it could order
    assert result.orders == []


@pytest.mark.parametrize("mode", ["fast", "step"])
def test_a_bar_with_a_retry_and_a_new_target_is_decided_once(mode: str) -> None:
    """A refused sell is due again on the very bar whose target changes back: one decision there, one order."""
    plan = (1.0, 0.0, 1.0, 1.0, 0.0, 0.0)
    result = run_backtest(
        Scripted(plan),
        minutes([100.0] * 6),
        product_id=COIN.product_id,
        products={COIN.product_id: COIN},
        initial_cash=Decimal(1000),
        fill_model=FREE,
        risk=manager(min_interval_seconds=90),
        mode=mode,  # type: ignore[arg-type]
    )
    ids = [o.client_order_id for o in result.orders]
    assert len(ids) == len(set(ids)), ids
    refused = result.risk_frame(("risk.order_rejected",))
    assert list(refused["reason"]) == ["min_interval"]
