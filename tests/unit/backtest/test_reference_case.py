"""The reference case: MovingAverageCross(10, 30), long only, all-in, next-open fills, 0.6% fee per side,
1,000,000 starting cash, against an independent loop written here."""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gpttrader.backtest import run_backtest
from gpttrader.brokers.simulated import FeeSchedule, FillModel
from gpttrader.marketdata import load_candles
from gpttrader.strategy import EnsembleStrategy, MACDSignal, MovingAverageCross, RSISignal, Voter

ROOT = Path(__file__).resolve().parents[3]
FEE = 0.006


@pytest.fixture(scope="module")
def candles() -> pd.DataFrame:
    return load_candles(
        "BTC-USD",
        "FIFTEEN_MINUTE",
        start=datetime(2025, 1, 1, tzinfo=UTC),
        end=datetime(2025, 3, 1, tzinfo=UTC),
        data_dir=ROOT / "data",
    )


def reference_loop(frame: pd.DataFrame, fast: int, slow: int, cash: float, fee: float) -> tuple[list, float]:
    """The plainest possible loop: decide at each close, act at the next open."""
    close, open_ = frame["close"].to_numpy(), frame["open"].to_numpy()
    trades, size, entry = [], 0.0, None
    for i in range(len(frame) - 1):
        if i + 1 < slow:
            continue
        fast_ma = close[i + 1 - fast : i + 1].mean()
        slow_ma = close[i + 1 - slow : i + 1].mean()
        price = open_[i + 1]
        if fast_ma > slow_ma and size == 0:
            size = cash / (price * (1 + fee))
            cash -= size * price * (1 + fee)
            entry = (i + 1, price)
        elif fast_ma <= slow_ma and size > 0:
            cash += size * price * (1 - fee)
            trades.append((entry[0], i + 1, entry[1], price))
            size = 0.0
    return trades, cash + size * close[-1]


def test_reference_case_matches_an_independent_loop(candles: pd.DataFrame) -> None:
    fill_model = FillModel(fees=FeeSchedule(maker=Decimal("0.006"), taker=Decimal("0.006")))
    result = run_backtest(MovingAverageCross(10, 30), candles, fill_model=fill_model, initial_cash=Decimal(1_000_000))
    expected_trades, expected_equity = reference_loop(candles, 10, 30, 1_000_000.0, FEE)
    times = candles["time"]
    closed = [t for t in result.trades if t.exit_time is not None]
    assert len(closed) == len(expected_trades) > 20
    for trade, (entry_row, exit_row, entry_price, exit_price) in zip(closed, expected_trades, strict=False):
        assert trade.entry_time == times[entry_row].to_pydatetime()
        assert trade.exit_time == times[exit_row].to_pydatetime()
        assert float(trade.entry_price) == pytest.approx(entry_price, rel=1e-9)
        assert float(trade.exit_price or 0) == pytest.approx(exit_price, rel=1e-9)
    assert result.final_equity == pytest.approx(expected_equity, rel=1e-6)
    assert result.metrics["fees_paid"] > 0
    assert result.metrics["trades"] == len(closed)


def test_fast_and_step_give_identical_results(candles: pd.DataFrame) -> None:
    strategy = EnsembleStrategy((RSISignal(14, 35, 65), MACDSignal()), Voter("weighted", threshold=0.5))
    fast = run_backtest(strategy, candles)
    step = run_backtest(strategy, candles, mode="step")
    assert [o.client_order_id for o in fast.orders] == [o.client_order_id for o in step.orders]
    assert fast.fills == step.fills
    np.testing.assert_array_equal(fast.equity.to_numpy(), step.equity.to_numpy())


def test_three_symbols_share_one_cash_balance() -> None:
    start, end = datetime(2025, 5, 1, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC)
    frames = {
        p: load_candles(p, "ONE_HOUR", start=start, end=end, data_dir=ROOT / "data")
        for p in ("BTC-USD", "ETH-USD", "SOL-USD")
    }
    result = run_backtest(MovingAverageCross(5, 20), frames)
    assert {f.product_id for f in result.fills} == set(frames)
    assert result.final_cash >= 0
    assert len(result.equity) == len(frames["BTC-USD"])
    # Each product is sized to a third of equity: no entry spends more than a third of the equity there was.
    peak = float(result.equity.max())
    assert max(float(f.price * f.size) for f in result.fills if f.side.value == "BUY") <= peak / 3 * 1.0001


def test_bad_input_is_refused(candles: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="are empty"):
        run_backtest(MovingAverageCross(10, 30), candles.iloc[:0])
    with pytest.raises(ValueError, match="not sorted by time"):
        run_backtest(MovingAverageCross(10, 30), candles.iloc[::-1])
    with pytest.raises(ValueError, match="lack columns volume"):
        run_backtest(MovingAverageCross(10, 30), candles.drop(columns=["volume"]))
    with pytest.raises(ValueError, match=r"fast \(30\) must be below slow \(10\)"):
        MovingAverageCross(30, 10)
    with pytest.raises(ValueError, match="maker must be >= 0"):
        FeeSchedule(maker=Decimal("-0.001"))
    with pytest.raises(ValueError, match="mode must be fast or step"):
        run_backtest(MovingAverageCross(10, 30), candles, mode="turbo")  # type: ignore[arg-type]
