"""A backtest's tearsheet in one place: the header, the metrics with the buy-and-hold comparison, the worst
drawdowns, and the figures in reading order. The research notebook shows these one call at a time; a
standalone report can take `figures` whole."""

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

from gpttrader.backtest import BacktestResult
from gpttrader.reports.benchmark import buy_and_hold, relative_metrics
from gpttrader.reports.figures import (
    annual_returns_figure,
    metrics_table,
    monthly_returns_figure,
    price_equity_figure,
    rolling_figure,
    table_figure,
    trade_pnl_figure,
)
from gpttrader.reports.indicators import strategy_indicators
from gpttrader.reports.periods import drawdown_periods
from gpttrader.reports.tables import format_value, header_frame, metrics_frame


def benchmark(result: BacktestResult, candles: Mapping[str, pd.DataFrame]) -> pd.Series:
    return buy_and_hold(candles, float(result.initial_cash), result.equity.index)


def metrics(result: BacktestResult, candles: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Every metric, named and formatted, with buy and hold's return, the excess over it, alpha and beta."""
    compared = relative_metrics(result.equity, benchmark(result, candles), float(result.initial_cash))
    return metrics_frame(result, compared)


def drawdowns(result: BacktestResult, top: int = 5) -> pd.DataFrame:
    """The worst drawdowns, formatted: dates, depth as a percentage, duration in days."""
    periods = drawdown_periods(result.equity, float(result.initial_cash), top)
    shown = pd.DataFrame(
        {
            "Peak": periods["peak"].dt.strftime("%Y-%m-%d %H:%M"),
            "Trough": periods["trough"].dt.strftime("%Y-%m-%d %H:%M"),
            "Recovered": periods["recovery"].dt.strftime("%Y-%m-%d %H:%M").fillna("not yet"),
            "Depth": [format_value(d, "percent") for d in periods["depth"]],
            "Days": [f"{d / pd.Timedelta(days=1):,.1f}" for d in periods["duration"]],
        }
    )
    shown.index = pd.RangeIndex(1, len(shown) + 1)
    return shown


def price_figures(result: BacktestResult, candles: Mapping[str, pd.DataFrame]) -> list[go.Figure]:
    """Each product's price, trades and the strategy's indicators above equity against buy and hold."""
    strategy = result.settings.strategy if result.settings is not None else None
    hold = benchmark(result, candles)
    return [
        price_equity_figure(frame, result, pid, benchmark=hold, indicators=strategy_indicators(strategy, frame))
        for pid, frame in candles.items()
    ]


def figures(result: BacktestResult, candles: Mapping[str, pd.DataFrame]) -> list[go.Figure]:
    """The whole tearsheet as figures, tables included, in reading order."""
    compared = relative_metrics(result.equity, benchmark(result, candles), float(result.initial_cash))
    return [
        table_figure(header_frame(result, candles).rename_axis("run"), "Backtest"),
        metrics_table(result, compared),
        *price_figures(result, candles),
        rolling_figure(result),
        table_figure(drawdowns(result), "Worst drawdowns"),
        annual_returns_figure(result),
        monthly_returns_figure(result),
        trade_pnl_figure(result),
    ]
