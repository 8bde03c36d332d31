"""The metrics of a result, computed by hand on a small equity curve and trade list."""

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pandas as pd
import pytest

from gpttrader.backtest import BacktestResult, RoundTrip
from gpttrader.backtest.metrics import compute_metrics
from gpttrader.domain import Fill, Liquidity, Side

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def test_metrics_by_hand() -> None:
    values = [100.0, 90.0, 95.0, 100.0, 80.0, 85.0, 90.0, 101.0]
    times = pd.date_range(T0, periods=len(values), freq="1D", tz="UTC")
    trade = lambda pnl: RoundTrip("BTC-USD", "LONG", T0, T0 + timedelta(days=1), D(1), D(100), D(101), D(0), D(pnl))  # noqa: E731
    fill = Fill("t", "c", "BTC-USD", Side.BUY, D(50), D(2), D("0.5"), Liquidity.TAKER, T0)
    result = BacktestResult(
        equity=pd.Series(values, index=times),
        exposure=pd.Series([0, 1, 1, 0, 1, 1, 1, 0], index=times, dtype=float),
        trades=[trade(6), trade(-2), trade(-1), trade(9)],
        orders=[],
        fills=[fill],
        initial_cash=D(100),
        final_cash=D(101),
        fees_paid=D("0.5"),
    )
    metrics = compute_metrics(result)
    assert metrics["total_return"] == pytest.approx(0.01)
    assert metrics["max_drawdown"] == pytest.approx(-0.2)  # 100 -> 80
    assert metrics["max_drawdown_duration_bars"] == 3  # 80, 85, 90 under the peak of 100
    assert metrics["trades"] == 4
    assert metrics["win_rate"] == 0.5
    assert metrics["profit_factor"] == pytest.approx(15 / 3)
    assert metrics["expectancy"] == pytest.approx(3)
    assert metrics["exposure"] == pytest.approx(5 / 8)
    assert metrics["turnover"] == pytest.approx(100 / (sum(values) / len(values)))
    assert metrics["fees_paid"] == 0.5


def test_trade_statistics_by_hand() -> None:
    times = pd.date_range(T0, periods=3, freq="1D", tz="UTC")

    def trade(pnl: int, days: int) -> RoundTrip:
        return RoundTrip("BTC-USD", "LONG", T0, T0 + timedelta(days=days), D(1), D(100), D(101), D(0), D(pnl))

    still_open = RoundTrip("BTC-USD", "LONG", T0, None, D(1), D(100), None, D(0), D(50))
    result = BacktestResult(
        equity=pd.Series([100.0, 101.0, 112.0], index=times),
        exposure=pd.Series(1.0, index=times),
        trades=[trade(6, 1), trade(-2, 2), trade(-1, 1), trade(9, 4), still_open],
        orders=[],
        fills=[],
        initial_cash=D(100),
        final_cash=D(112),
        fees_paid=D(0),
    )
    metrics = compute_metrics(result)
    assert metrics["best_trade"] == 9
    assert metrics["worst_trade"] == -2
    assert metrics["average_win"] == pytest.approx(7.5)
    assert metrics["average_loss"] == pytest.approx(-1.5)
    assert metrics["average_trade_hours"] == pytest.approx(24 * 8 / 4)
    # sqrt(4) x mean 3 over the sample spread sqrt((9 + 25 + 16 + 36) / 3)
    assert metrics["sqn"] == pytest.approx(2 * 3 / math.sqrt(86 / 3))
