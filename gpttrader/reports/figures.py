"""Plotly figures of a backtest: price with entries and exits, equity and drawdown, monthly returns,
trade PnL distribution, exposure over time, and what sizing read (edge estimates, market regimes)."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from gpttrader.backtest import BacktestResult
from gpttrader.domain.events import EventType

MAX_CANDLES = 3000


def downsample(candles: pd.DataFrame, max_points: int = MAX_CANDLES) -> pd.DataFrame:
    """Coarser candles when there are more than `max_points`, so a year of minutes stays drawable."""
    if len(candles) <= max_points:
        return candles
    span = candles["time"].iloc[-1] - candles["time"].iloc[0]
    width = max(span / max_points, pd.Timedelta(minutes=1)).ceil("min")
    grouped = candles.set_index("time").resample(width, label="left", closed="left")
    out = grouped.agg({"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
    return out.dropna(subset=["open"]).reset_index()


def price_figure(candles: pd.DataFrame, result: BacktestResult, product_id: str) -> go.Figure:
    shown = downsample(candles)
    figure = go.Figure(
        go.Candlestick(
            x=shown["time"],
            open=shown["open"],
            high=shown["high"],
            low=shown["low"],
            close=shown["close"],
            name=product_id,
        )
    )
    for side, symbol, colour in (("BUY", "triangle-up", "#2ca02c"), ("SELL", "triangle-down", "#d62728")):
        fills = [f for f in result.fills if f.product_id == product_id and f.side.value == side]
        figure.add_trace(
            go.Scatter(
                x=[f.time for f in fills],
                y=[float(f.price) for f in fills],
                mode="markers",
                name=side.lower(),
                marker={"symbol": symbol, "size": 9, "color": colour},
            )
        )
    figure.update_layout(title=f"{product_id}: price and fills", xaxis_rangeslider_visible=False)
    return figure


_GUARD_MARKERS = {
    EventType.RISK_GUARD_WARNING: ("guard warning", "triangle-up", "orange"),
    EventType.RISK_GUARD_BREACHED: ("guard breached", "x", "red"),
    EventType.RISK_STATE_CHANGED: ("trading state", "diamond", "black"),
}


def equity_figure(result: BacktestResult) -> go.Figure:
    """Equity and drawdown, with the risk guards' warnings, breaches and state changes marked where they
    happened (hover for the guard, its value and the state entered)."""
    equity = result.equity
    drawdown = equity / equity.cummax() - 1
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.05)
    figure.add_trace(go.Scatter(x=equity.index, y=equity, name="equity"), row=1, col=1)
    figure.add_trace(go.Scatter(x=drawdown.index, y=drawdown, name="drawdown", fill="tozeroy"), row=2, col=1)
    events = result.guard_events()
    for kind, (label, symbol, colour) in _GUARD_MARKERS.items():
        rows = events[events["type"] == kind] if not events.empty else events
        if rows.empty:
            continue
        times = pd.DatetimeIndex(rows["time"])
        text = [
            f"{r.get('guard') or r.get('reason')}: {r.get('value', '')} -> {r.get('to', r.get('severity', 'warning'))}"
            for r in rows.to_dict("records")
        ]
        figure.add_trace(
            go.Scatter(
                x=times,
                y=equity.reindex(times, method="ffill"),
                mode="markers",
                name=label,
                text=text,
                marker={"symbol": symbol, "size": 11, "color": colour},
            ),
            row=1,
            col=1,
        )
    figure.update_layout(title="Equity and drawdown")
    figure.update_yaxes(tickformat=".0%", row=2, col=1)
    return figure


def monthly_returns_figure(result: BacktestResult) -> go.Figure:
    monthly = result.equity.resample("ME").last()
    returns = monthly.pct_change()
    returns.iloc[0] = monthly.iloc[0] / float(result.initial_cash) - 1
    months = pd.DatetimeIndex(returns.index)
    table = pd.DataFrame({"year": months.year, "month": months.month, "return": returns.to_numpy()})
    grid = table.pivot(index="year", columns="month", values="return").reindex(columns=range(1, 13))
    figure = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=[pd.Timestamp(2000, m, 1).strftime("%b") for m in range(1, 13)],
            y=[str(y) for y in grid.index],
            colorscale="RdYlGn",
            zmid=0,
            texttemplate="%{z:.1%}",
            hovertemplate="%{y} %{x}: %{z:.2%}<extra></extra>",
        )
    )
    figure.update_layout(title="Monthly returns")
    return figure


def trade_pnl_figure(result: BacktestResult) -> go.Figure:
    pnl = [float(t.pnl) for t in result.trades if t.exit_time is not None]
    figure = go.Figure(go.Histogram(x=pnl, nbinsx=min(60, max(10, len(pnl) // 3)), name="trade PnL"))
    figure.update_layout(title=f"Trade PnL ({len(pnl)} closed trades)", xaxis_title="PnL", yaxis_title="trades")
    return figure


def exposure_figure(result: BacktestResult) -> go.Figure:
    figure = go.Figure(go.Scatter(x=result.exposure.index, y=result.exposure, name="gross exposure", fill="tozeroy"))
    figure.update_layout(title="Exposure (gross position value / equity)")
    figure.update_yaxes(tickformat=".0%")
    return figure


def edge_figure(result: BacktestResult) -> go.Figure:
    """The edge estimates as the run walked forward: each changes when a round trip closes, and a decision
    is sized from the one in force before it (empty without a risk manager)."""
    edges = result.edge_frame()
    figure = go.Figure()
    for (strategy, pid), rows in edges.groupby(["strategy", "product_id"]):
        hover = [f"{n} trades, {w} won" for n, w in zip(rows["trades"], rows["wins"], strict=True)]
        for name in ("win_rate", "kelly"):
            figure.add_trace(
                go.Scatter(x=rows["time"], y=rows[name], name=f"{strategy} {pid} {name}", line_shape="hv", text=hover)
            )
    figure.update_layout(title="Edge estimates (shrunk win rate and Kelly fraction, from the trips closed so far)")
    return figure


def regime_figure(result: BacktestResult) -> go.Figure:
    """The market regime each product's decisions were sized in, from one change to the next."""
    regimes = result.regime_frame()
    figure = go.Figure()
    for pid, rows in regimes.groupby("product_id"):
        figure.add_trace(go.Scatter(x=rows["time"], y=rows["regime"], name=str(pid), line_shape="hv", mode="lines"))
    order = list(regimes["regime"].cat.categories)  # bull to bear
    figure.update_yaxes(categoryorder="array", categoryarray=order[::-1])
    figure.update_layout(title="Market regimes used in sizing")
    return figure


def metrics_table(result: BacktestResult) -> go.Figure:
    names = list(result.metrics)
    values = [f"{v:.4g}" if isinstance(v, float) and np.isfinite(v) else str(v) for v in result.metrics.values()]
    return go.Figure(go.Table(header={"values": ["metric", "value"]}, cells={"values": [names, values]}))
