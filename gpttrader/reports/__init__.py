"""Plotly figures of backtests and standalone HTML reports."""

from gpttrader.reports.figures import (
    downsample,
    edge_figure,
    equity_figure,
    exposure_figure,
    monthly_returns_figure,
    price_figure,
    regime_figure,
    trade_pnl_figure,
)
from gpttrader.reports.html import write_html

__all__ = [
    "downsample",
    "edge_figure",
    "equity_figure",
    "exposure_figure",
    "monthly_returns_figure",
    "price_figure",
    "regime_figure",
    "trade_pnl_figure",
    "write_html",
]
