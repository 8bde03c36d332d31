"""The tearsheet's parts, each against values worked out by hand on a few bars: the benchmark and alpha and
beta against it, period returns sized to the run, drawdown periods, rolling statistics, formatted metrics and
header, thinned trade markers, indicator overlays and a sweep's heatmap, and the frames' dtypes."""

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import numpy as np
import pandas as pd
import pytest

from gpttrader.backtest import BacktestResult, RoundTrip, run_backtest
from gpttrader.backtest.result import RunSettings
from gpttrader.brokers.simulated import FeeSchedule, FillModel
from gpttrader.domain import Fill, Liquidity, Side
from gpttrader.reports import tearsheet
from gpttrader.reports.benchmark import buy_and_hold, relative_metrics
from gpttrader.reports.figures import (
    metrics_table,
    monthly_returns_figure,
    price_equity_figure,
    price_figure,
    sweep_heatmap,
    thin,
)
from gpttrader.reports.indicators import strategy_indicators
from gpttrader.reports.periods import annual_returns, drawdown_periods, monthly_grid, rolling_stats
from gpttrader.reports.tables import header_frame, metrics_frame
from gpttrader.strategy import MovingAverageCross, RSIMeanReversion

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _result(values: list[float], *, freq: str = "1D", initial: float = 100, **more: object) -> BacktestResult:
    times = pd.date_range(T0, periods=len(values), freq=freq, tz="UTC")
    fields: dict[str, object] = {
        "equity": pd.Series(values, index=times, dtype=float),
        "exposure": pd.Series(1.0, index=times),
        "trades": [],
        "orders": [],
        "fills": [],
        "initial_cash": D(str(initial)),
        "final_cash": D(str(values[-1])),
        "fees_paid": D(0),
    }
    fields.update(more)
    return BacktestResult(**fields)  # type: ignore[arg-type]


def _candles(closes: list[float], freq: str = "1D") -> pd.DataFrame:
    close = np.asarray(closes, dtype=float)
    return pd.DataFrame(
        {
            "time": pd.date_range(T0, periods=len(close), freq=freq, tz="UTC"),
            "open": close,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "volume": 1.0,
        }
    )


def _trip(pnl: float, hours: int = 24, at: int = 0) -> RoundTrip:
    entry = T0 + timedelta(hours=at)
    return RoundTrip("BTC-USD", "LONG", entry, entry + timedelta(hours=hours), D(1), D(100), D(101), D(1), D(pnl))


def test_trades_frame_money_columns_are_floats() -> None:
    open_trip = RoundTrip("BTC-USD", "LONG", T0, None, D(2), D("100.5"), None, D("0.25"), D(0))
    frame = _result([100, 101], trades=[_trip(6), _trip(-2, hours=48), open_trip]).trades_frame()
    for name in ("size", "entry_price", "exit_price", "fees", "pnl", "notional"):
        assert frame[name].dtype == np.float64, name
    assert frame["pnl"].tolist() == [6.0, -2.0, 0.0]
    assert math.isnan(frame["exit_price"].iloc[2])  # an open trip has no exit yet
    assert frame["duration"].iloc[1] == pd.Timedelta(hours=48)
    assert frame["pnl"].describe()["mean"] == pytest.approx(4 / 3)
    empty = _result([100, 101]).trades_frame()
    assert empty.empty
    assert empty["pnl"].dtype == np.float64


def test_buy_and_hold_splits_the_cash_across_the_products() -> None:
    candles = {"A": _candles([100, 110, 121]), "B": _candles([50, 50, 25])}
    index = pd.DatetimeIndex(candles["A"]["time"])
    benchmark = buy_and_hold(candles, 1000, index)
    # half in each: 500 * (1.1, 1.21) and 500 * (1, 0.5)
    assert benchmark.tolist() == pytest.approx([1000, 1050, 855])


def test_alpha_and_beta_of_a_strategy_twice_the_market_plus_a_constant() -> None:
    market = [0.01, -0.02, 0.03, 0.005, -0.01, 0.02]
    benchmark = pd.Series(1000 * np.cumprod([1 + r for r in market]), index=pd.date_range(T0, periods=6, tz="UTC"))
    ours = 1000 * np.cumprod([1 + 2 * r + 0.001 for r in market])
    equity = pd.Series(ours, index=benchmark.index)
    metrics = relative_metrics(equity, benchmark, 1000)
    assert metrics["beta"] == pytest.approx(2)
    assert metrics["alpha"] == pytest.approx(0.001 * 365)  # daily bars, annualized
    assert metrics["benchmark_return"] == pytest.approx(benchmark.iloc[-1] / 1000 - 1)
    assert metrics["excess_return"] == pytest.approx((ours[-1] - benchmark.iloc[-1]) / 1000)


def test_monthly_returns_have_only_the_months_the_run_covers() -> None:
    values = [100 + i for i in range(31 + 28 + 31)]  # Jan 31 = 130, Feb 28 = 158, Mar 31 = 189
    result = _result(values)
    grid = monthly_grid(result.equity, 100)
    assert list(grid.columns) == ["Jan", "Feb", "Mar"]
    assert list(grid.index) == [2025]
    assert grid.loc[2025].tolist() == pytest.approx([130 / 100 - 1, 158 / 130 - 1, 189 / 158 - 1])
    assert monthly_returns_figure(result).data[0].z.shape == (1, 3)


def test_a_run_across_new_year_has_a_row_a_year_and_annual_returns() -> None:
    times = pd.date_range("2024-11-15", "2025-02-15", freq="1D", tz="UTC")
    equity = pd.Series(np.linspace(100, 200, len(times)), index=times)
    grid = monthly_grid(equity, 100)
    assert list(grid.columns) == ["Jan", "Feb", "Nov", "Dec"]
    assert list(grid.index) == [2024, 2025]
    assert math.isnan(grid.loc[2024, "Jan"])
    assert math.isnan(grid.loc[2025, "Dec"])
    annual = annual_returns(equity, 100)
    end_2024 = equity.loc[:"2024-12-31"].iloc[-1]
    assert annual.to_dict() == pytest.approx({2024: end_2024 / 100 - 1, 2025: 200 / end_2024 - 1})


def test_drawdown_periods_deepest_first_with_their_dates() -> None:
    result = _result([100, 90, 95, 100, 80, 85, 90, 101, 99])
    periods = drawdown_periods(result.equity, 100)
    times = result.equity.index
    assert periods["depth"].tolist() == pytest.approx([-0.2, -0.1, 99 / 101 - 1])
    deepest = periods.iloc[0]
    assert (deepest["peak"], deepest["trough"], deepest["recovery"]) == (times[3], times[4], times[7])
    assert deepest["duration"] == pd.Timedelta(days=4)
    assert pd.isna(periods.iloc[2]["recovery"])  # still under water at the end
    assert len(drawdown_periods(result.equity, 100, top=1)) == 1
    sinking = drawdown_periods(_result([100, 90, 80]).equity, 100)  # never recovered: no recovery time at all
    assert sinking["depth"].tolist() == pytest.approx([-0.2])
    assert sinking["recovery"].isna().all()
    never = _result([100, 101, 102])
    assert drawdown_periods(never.equity, 100).empty
    assert tearsheet.drawdowns(never).empty  # a run never under water has none, and formats none


def test_rolling_sharpe_and_volatility_over_a_window() -> None:
    values = [100, 102, 101, 104, 103, 107]
    stats = rolling_stats(_result(values).equity, 100, window=3)
    returns = np.diff(np.r_[100, values]) / np.r_[100, values][:-1]
    last = returns[-3:]
    assert stats["volatility"].iloc[-1] == pytest.approx(last.std(ddof=1) * math.sqrt(365))
    assert stats["sharpe"].iloc[-1] == pytest.approx(last.mean() / last.std(ddof=1) * math.sqrt(365))
    assert stats["sharpe"].iloc[:2].isna().all()  # the window not yet full


def test_metrics_are_named_and_formatted_and_all_shown() -> None:
    fill = Fill("t", "c", "BTC-USD", Side.BUY, D(50), D(2), D("0.5"), Liquidity.TAKER, T0)
    result = _result(
        [100, 90, 95, 100, 80, 85, 90, 101], trades=[_trip(6), _trip(-2)], fills=[fill], fees_paid=D("0.5")
    )
    from gpttrader.backtest.metrics import compute_metrics

    result.metrics = compute_metrics(result) | {"expectancy": -11710.3}
    frame = metrics_frame(result, {"alpha": 0.12345, "beta": 1.5})
    shown = frame["value"].to_dict()
    assert shown["Final equity"] == "$101.00"
    assert shown["Total return"] == "1.00%"
    assert shown["Max drawdown"] == "-20.00%"
    assert shown["Fees paid"] == "$0.50"
    assert shown["Trades"] == "2"
    assert shown["Expectancy per trade"] == "-$11,710.30"
    assert shown["Alpha (annual)"] == "12.35%"
    assert shown["Beta"] == "1.50"
    assert shown["Average trade duration"] == "24.0 hours"
    assert not any("_" in name for name in frame.index)
    assert not any("e+" in v or "e-" in v for v in frame["value"])
    table = metrics_table(result, {"alpha": 0.1})
    assert len(table.data[0].cells.values[0]) == len(result.metrics) + 2  # every metric, final equity, alpha
    assert table.layout.height >= 26 * (len(result.metrics) + 2)  # tall enough: no row scrolled away


def test_header_says_what_the_run_was() -> None:
    candles = {"BTC-USD": _candles([100.0] * 48, freq="1h")}
    settings = RunSettings(MovingAverageCross(10, 30), D("0.004"), D("0.006"), D(5))
    result = _result([1_000_000.0] * 48, freq="1h", initial=1_000_000, settings=settings)
    header = header_frame(result, candles)["value"].to_dict()
    assert header == {
        "Period": "2025-01-01 00:00 to 2025-01-02 23:00 UTC (1 days)",
        "Products": "BTC-USD",
        "Timeframe": "1h",
        "Strategy": "ma_cross",
        "Parameters": "fast=10, slow=30, allow_short=False",
        "Fees": "0.40% maker, 0.60% taker",
        "Slippage": "5 bps",
        "Starting cash": "$1,000,000.00",
    }


def _many_trades(count: int) -> tuple[pd.DataFrame, BacktestResult]:
    candles = _candles(list(np.linspace(100, 200, 2 * count + 2)), freq="1h")
    trades = [_trip(float((i % 7) - 3) * (1 + i / count), hours=1, at=2 * i) for i in range(count)]
    fills = [
        Fill(str(i), str(i), "BTC-USD", side, D(100), D(1), D(0), Liquidity.TAKER, T0 + timedelta(hours=i))
        for i in range(2 * count)
        for side in (Side.BUY if i % 2 == 0 else Side.SELL,)
    ]
    return candles, _result([100.0] * len(candles), freq="1h", trades=trades, fills=fills)


def _drawn(figure: object, name: str) -> list[object]:
    trace = next(t for t in figure.data if t.name == name)  # type: ignore[attr-defined]
    return list(trace.x)


def test_trade_lines_coloured_by_pnl_and_thinned_to_the_largest() -> None:
    candles, result = _many_trades(1000)
    figure = price_figure(candles, result, "BTC-USD", max_trades=50)
    won, lost = _drawn(figure, "trades won"), _drawn(figure, "trades lost")
    assert (len(won) + len(lost)) // 3 == 50  # entry, exit, gap per trade
    assert next(t for t in figure.data if t.name == "trades won").line.color == "#2ca02c"
    assert next(t for t in figure.data if t.name == "trades lost").line.color == "#d62728"
    smallest_kept = min(abs(float(t.pnl)) for t in sorted(result.trades, key=lambda t: -abs(t.pnl))[:50])
    assert all(abs(float(t.pnl)) <= smallest_kept for t in result.trades if t.entry_time not in won + lost)
    assert len(_drawn(figure, "buy")) + len(_drawn(figure, "sell")) <= 100
    assert "50 of 1000 trades" in figure.layout.title.text
    few_candles, few = _many_trades(10)
    everything = price_figure(few_candles, few, "BTC-USD")
    assert len(_drawn(everything, "trades won") + _drawn(everything, "trades lost")) // 3 == 10
    assert len(_drawn(everything, "buy")) == 10  # under the limit, every fill is marked
    assert thin(10, 4).tolist() == [0, 3, 6, 9]


def test_indicators_overlay_the_price_and_share_its_time_axis() -> None:
    candles = _candles([float(x) for x in range(1, 41)])
    strategy = MovingAverageCross(3, 5)
    shown = strategy_indicators(strategy, candles)
    assert list(shown) == ["sma3", "sma5"]
    assert shown["sma3"].iloc[2:].tolist() == pytest.approx([float(x) for x in range(2, 40)])
    assert strategy_indicators(RSIMeanReversion(), candles) == {}  # not on the price's scale: none shown
    result = _result([100.0] * 40)
    figure = price_equity_figure(
        candles,
        result,
        "BTC-USD",
        benchmark=buy_and_hold({"BTC-USD": candles}, 100, result.equity.index),
        indicators=shown,
    )
    names = [t.name for t in figure.data]
    assert {"sma3", "sma5", "equity", "buy and hold", "drawdown"} <= set(names)
    axes = {figure.layout[name].matches for name in ("xaxis", "xaxis2", "xaxis3")}
    assert len(axes - {None}) == 1  # all three rows zoom together


def test_sweep_heatmap_is_the_grid() -> None:
    rows = [{"fast": f, "slow": s, "sharpe": f / s} for f in (5, 10, 20) for s in (30, 50)]
    figure = sweep_heatmap(pd.DataFrame(rows), "fast", "slow")
    heat = figure.data[0]
    assert heat.z.shape == (2, 3)
    assert list(heat.x) == ["5", "10", "20"]
    assert list(heat.y) == ["30", "50"]
    assert heat.z[1][1] == pytest.approx(10 / 50)


def test_a_backtests_tearsheet_in_reading_order() -> None:
    candles = _candles(list(100 + 10 * np.sin(np.arange(400) / 15)), freq="1h")
    strategy = MovingAverageCross(5, 20)
    costs = FillModel(fees=FeeSchedule(maker=D("0.001"), taker=D("0.002")), slippage_bps=D(3))
    result = run_backtest(strategy, candles, product_id="BTC-USD", initial_cash=D(10_000), fill_model=costs)
    header = header_frame(result, {"BTC-USD": candles})["value"]  # the run says what it was asked
    assert (header["Strategy"], header["Fees"], header["Slippage"]) == ("ma_cross", "0.10% maker, 0.20% taker", "3 bps")
    figures = tearsheet.figures(result, {"BTC-USD": candles})
    titles = [f.layout.title.text for f in figures]
    assert titles[:2] == ["Backtest", "Metrics"]
    assert titles[3:] == [
        "Rolling Sharpe ratio and volatility",
        "Worst drawdowns",
        "Annual returns",
        "Monthly returns",
        f"Trade PnL ({result.metrics['trades']:.0f} closed trades)",
    ]
    names = {t.name for t in figures[2].data}
    assert {"sma5", "sma20", "buy and hold", "trades won", "trades lost"} <= names
    shown = tearsheet.metrics(result, {"BTC-USD": candles})["value"]
    assert shown["Buy and hold return"] == f"{candles['close'].iloc[-1] / candles['close'].iloc[0] - 1:.2%}"
    assert list(tearsheet.drawdowns(result).columns) == ["Peak", "Trough", "Recovered", "Depth", "Days"]


def test_indicators_of_the_wrong_length_are_refused() -> None:
    class Short:
        def indicators(self, candles: pd.DataFrame) -> dict[str, pd.Series]:
            return {"half": candles["close"].iloc[: len(candles) // 2]}

    with pytest.raises(ValueError, match="indicator 'half' has 5 values for 10 candles"):
        strategy_indicators(Short(), _candles([1.0] * 10))
