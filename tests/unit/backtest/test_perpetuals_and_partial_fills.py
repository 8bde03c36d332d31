"""Backtests of a perpetual (funding on the hour) and of volume-capped partial fills, on flat prices so
the answers can be worked out by hand."""

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal as D

import numpy as np
import pandas as pd
import pytest

from gpttrader.backtest import run_backtest
from gpttrader.brokers.simulated import FeeSchedule, FillModel
from gpttrader.domain import ProductType
from gpttrader.strategy import Bar, TargetPosition
from tests.unit.products import PERP


@dataclass(frozen=True)
class Hold:
    """Always the same target: the simplest strategy that holds a position."""

    target: float
    name: str = "hold"

    @property
    def warmup(self) -> int:
        return 1

    def targets(self, candles: pd.DataFrame) -> np.ndarray:
        return np.full(len(candles), self.target)

    def new_state(self) -> None:
        return None

    def on_bar(self, bar: Bar, state: None) -> TargetPosition:
        return TargetPosition(bar.product_id, self.target, 1.0, "hold")


def flat(minutes: int, volume: float = 1e6) -> pd.DataFrame:
    times = pd.date_range("2026-01-01", periods=minutes, freq="1min", tz="UTC")
    frame = pd.DataFrame({"time": times, "open": 100.0, "high": 100.0, "low": 100.0, "close": 100.0, "volume": volume})
    frame.attrs["product_id"] = "BTC-USD"
    return frame


@pytest.mark.parametrize("mode", ["fast", "step"])
@pytest.mark.parametrize(("target", "sign"), [(1.0, 1), (-1.0, -1)])
def test_perpetual_funding_is_paid_on_the_hour(mode: str, target: float, sign: int) -> None:
    model = FillModel(fees=FeeSchedule(maker=D("0.001"), taker=D("0.001")), funding_rate_per_hour=D("0.0001"))
    result = run_backtest(
        Hold(target),
        flat(48 * 60),
        product_id=PERP.product_id,
        products={PERP.product_id: PERP},
        initial_cash=D(1000),
        fill_model=model,
        mode=mode,
    )  # type: ignore[arg-type]
    # In at 00:01 with 10 contracts (1000 / 100), a 1.00 fee; then 47 hourly payments of 10 x 100 x 0.0001.
    assert [f.size for f in result.fills] == [D(10)]
    assert result.final_cash == D(1000) - D(1) - sign * D("4.7")
    assert result.final_equity == pytest.approx(float(result.final_cash))
    at_half_past_five = result.equity[pd.Timestamp("2026-01-01 05:30", tz="UTC")]
    assert at_half_past_five == pytest.approx(1000 - 1 - sign * 0.5)


def test_partial_fills_follow_the_volume_cap_identically_in_both_modes() -> None:
    model = FillModel(fees=FeeSchedule(maker=D(0), taker=D(0)), max_volume_share=D("0.1"))
    runs = {
        mode: run_backtest(Hold(1.0), flat(300, volume=1.0), initial_cash=D(1000), fill_model=model, mode=mode)
        for mode in ("fast", "step")
    }  # type: ignore[arg-type]
    fast = runs["fast"]
    assert len(fast.orders) == 1
    assert fast.orders[0].size == D(10)
    assert len(fast.fills) == 100  # 0.1 a bar, the volume cap, for 100 bars
    assert all(f.size == D("0.1") for f in fast.fills)
    assert fast.fills == runs["step"].fills
    np.testing.assert_array_equal(fast.equity.to_numpy(), runs["step"].equity.to_numpy())


@dataclass(frozen=True)
class Toggle:
    """Long for `every` bars, flat for `every` bars, and so on."""

    every: int
    name: str = "toggle"

    @property
    def warmup(self) -> int:
        return 1

    def targets(self, candles: pd.DataFrame) -> np.ndarray:
        return ((np.arange(len(candles)) // self.every) % 2 == 0).astype(float)

    def new_state(self) -> dict[str, int]:
        return {"bar": 0}

    def on_bar(self, bar: Bar, state: dict[str, int]) -> TargetPosition:
        target = float((state["bar"] // self.every) % 2 == 0)
        state["bar"] += 1
        return TargetPosition(bar.product_id, target, 1.0, "toggle")


def test_orders_replaced_while_filling_never_fill_twice_on_a_bar() -> None:
    model = FillModel(fees=FeeSchedule(maker=D(0), taker=D(0)), max_volume_share=D("0.1"))
    frames = {"BTC-USD": flat(200, volume=1.0), "ETH-USD": flat(200, volume=2.0)}
    runs = {
        mode: run_backtest(Toggle(5), frames, initial_cash=D(1000), fill_model=model, mode=mode)
        for mode in ("fast", "step")
    }  # type: ignore[arg-type]
    fills = runs["fast"].fills
    per_bar = pd.Series([(f.product_id, f.time) for f in fills]).value_counts()
    assert per_bar.max() == 1, "an order and its replacement both filled on one bar"
    # Each order fills 5 bars at most (the volume cap) before the next decision replaces it.
    by_order = pd.Series([f.client_order_id for f in fills]).value_counts()
    assert by_order.max() <= 5
    assert fills == runs["step"].fills
    assert runs["fast"].final_cash >= 0  # two products filling in parts never spend cash they lack
    np.testing.assert_array_equal(runs["fast"].equity.to_numpy(), runs["step"].equity.to_numpy())


def test_a_bar_wider_than_an_hour_pays_every_hour_it_spans() -> None:
    """On daily bars a held perpetual pays 24 hourly payments a day, as the paper venue and the sandbox
    charge it hour by hour, not one."""
    model = FillModel(fees=FeeSchedule(maker=D(0), taker=D(0)), funding_rate_per_hour=D("0.0001"))
    days = pd.date_range("2026-01-01", periods=4, freq="1D", tz="UTC")
    frame = pd.DataFrame({"time": days, "open": 100.0, "high": 100.0, "low": 100.0, "close": 100.0, "volume": 1e6})
    result = run_backtest(
        Hold(1.0),
        frame,
        product_id=PERP.product_id,
        products={PERP.product_id: PERP},
        initial_cash=D(1000),
        fill_model=model,
    )
    # In at the second day's open with 10 contracts, held through the second, third and fourth days' bars:
    # 3 x 24 hourly payments of 10 x 100 x 0.0001.
    assert [f.size for f in result.fills] == [D(10)]
    assert result.final_cash == D(1000) - 3 * 24 * D("0.1")


@pytest.mark.parametrize("mode", ["fast", "step"])
def test_a_perpetual_style_future_accrues_funding_hourly_and_settles_it_twice_a_day(mode: str) -> None:
    """The paper venue's and the sandbox's rule (gpttrader.domain.funding): the cash moves at 00:00 and 12:00
    only, by what the hours since accrued; a backtest that booked each hour at once would show the bot's
    equity moving twelve hours early."""
    future = replace(
        PERP,
        product_id="BIP-20DEC30-CDE",
        product_type=ProductType.FUTURE,
        perpetual_style=True,
        expiry=datetime(2030, 12, 20, 16, tzinfo=UTC),
    )
    model = FillModel(fees=FeeSchedule(maker=D(0), taker=D(0)), funding_rate_per_hour=D("0.0001"))
    result = run_backtest(
        Hold(1.0),
        flat(36 * 60),
        product_id=future.product_id,
        products={future.product_id: future},
        initial_cash=D(1000),
        fill_model=model,
        mode=mode,  # type: ignore[arg-type]
    )
    hourly = D(10) * D(100) * D("0.0001")  # 10 contracts of 100
    equity = result.equity
    assert equity[pd.Timestamp("2026-01-01 11:30", tz="UTC")] == pytest.approx(1000)  # accrued, not settled
    assert equity[pd.Timestamp("2026-01-01 12:00", tz="UTC")] == pytest.approx(float(1000 - 12 * hourly))
    assert equity[pd.Timestamp("2026-01-01 23:59", tz="UTC")] == pytest.approx(float(1000 - 12 * hourly))
    assert equity[pd.Timestamp("2026-01-02 00:00", tz="UTC")] == pytest.approx(float(1000 - 24 * hourly))
    assert result.final_cash == D(1000) - 24 * hourly  # 01:00 to 11:00 of the second day accrued, unsettled
