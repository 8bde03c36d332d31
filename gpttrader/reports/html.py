"""A standalone HTML report: every figure on one page, plotly.js embedded so it opens offline."""

from html import escape
from pathlib import Path

import pandas as pd

from gpttrader.backtest import BacktestResult
from gpttrader.reports.figures import (
    edge_figure,
    equity_figure,
    exposure_figure,
    metrics_table,
    monthly_returns_figure,
    price_figure,
    regime_figure,
    trade_pnl_figure,
)


def write_html(
    result: BacktestResult,
    candles: dict[str, pd.DataFrame],
    path: Path,
    *,
    title: str = "Backtest",
) -> Path:
    figures = [metrics_table(result), equity_figure(result)]
    figures += [price_figure(frame, result, product_id) for product_id, frame in candles.items()]
    figures += [monthly_returns_figure(result), trade_pnl_figure(result), exposure_figure(result)]
    if result.risk_state is not None:  # run with a risk manager: what its sizing read
        figures += [edge_figure(result), regime_figure(result)]
    parts = [f.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False) for i, f in enumerate(figures)]
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title></head>"
        f"<body><h1>{escape(title)}</h1>{''.join(parts)}</body></html>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
