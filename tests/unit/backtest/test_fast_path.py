"""The vectorized fast path is only an accelerator: for every built-in strategy that has one, and with a risk
manager whose guards bite and whose refusals are pursued, it gives exactly the orders, fills and equity of
stepping the strategy bar by bar through the order manager, as live steps it."""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gpttrader.backtest import BacktestResult, run_backtest
from gpttrader.brokers.simulated import FeeSchedule, FillModel
from gpttrader.config import load_config
from gpttrader.marketdata import load_candles
from gpttrader.risk import LiveRiskManager, MemoryJournal
from gpttrader.strategy import STRATEGIES, Strategy, build_strategy

ROOT = Path(__file__).resolve().parents[3]
FEES = FillModel(fees=FeeSchedule(maker=Decimal("0.006"), taker=Decimal("0.006")))
VECTORIZED = [name for name in STRATEGIES if isinstance(build_strategy(name), Strategy)]


@pytest.fixture(scope="module")
def candles() -> pd.DataFrame:
    start, end = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 4, tzinfo=UTC)
    return load_candles("BTC-USD", "ONE_MINUTE", start=start, end=end, data_dir=ROOT / "data")


def guarded() -> LiveRiskManager:
    """The paper profile's manager with a loss streak of two and order limits that bite on a fast strategy."""
    config = load_config(
        "paper",
        overrides={
            "symbols": ["BTC-USD"],
            "risk": {"limits_file": None, "max_position_fraction": 1, "max_exposure_fraction": 1},
            "guards": {"consecutive_losses": {"limit": 2, "action": "reduce_only"}},
            "order_limits": {"per_minute": 1, "per_hour": 6, "per_day": 50, "min_interval_seconds": 120},
        },
        env={},
    )
    return LiveRiskManager.from_config(config, MemoryJournal())


def same(fast: BacktestResult, step: BacktestResult) -> None:
    assert [o.client_order_id for o in fast.orders] == [o.client_order_id for o in step.orders]
    assert fast.fills == step.fills
    np.testing.assert_array_equal(fast.equity.to_numpy(), step.equity.to_numpy())
    assert fast.risk_state == step.risk_state


def test_every_builtin_with_a_vectorized_form_is_covered() -> None:
    assert {"ma_cross", "rsi", "macd", "ensemble"} <= set(VECTORIZED)


@pytest.mark.parametrize("name", VECTORIZED)
def test_the_fast_path_gives_the_order_managers_fills_and_equity(candles: pd.DataFrame, name: str) -> None:
    strategy = build_strategy(name)
    fast = run_backtest(strategy, candles, fill_model=FEES)
    step = run_backtest(strategy, candles, fill_model=FEES, mode="step")
    assert fast.fills, f"{name} should trade on three days of minutes"
    same(fast, step)


@pytest.mark.parametrize("name", VECTORIZED)
def test_the_same_with_a_risk_manager_whose_guards_bite(candles: pd.DataFrame, name: str) -> None:
    strategy = build_strategy(name)
    fast = run_backtest(strategy, candles, fill_model=FEES, risk=guarded())
    step = run_backtest(strategy, candles, fill_model=FEES, risk=guarded(), mode="step")
    refused = fast.risk_frame(("risk.order_rejected",))
    assert len(refused), f"{name}: the limits should refuse something"
    same(fast, step)
    pd.testing.assert_frame_equal(refused, step.risk_frame(("risk.order_rejected",)))
