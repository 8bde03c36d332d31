"""Plotly figures of a backtest: price with trades (entry to exit, coloured by PnL) and the strategy's
indicators, equity against buy and hold with drawdown, price and equity on one time axis, rolling Sharpe and
volatility, annual and monthly returns, trade PnL distribution, exposure, what sizing read (edge estimates,
market regimes), the tearsheet's tables and a two-parameter sweep's heatmap."""

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.basedatatypes import BaseTraceType
from plotly.subplots import make_subplots

from gpttrader.backtest import BacktestResult
from gpttrader.domain.events import EventType
from gpttrader.reports.periods import annual_returns, monthly_grid, rolling_stats
from gpttrader.reports.tables import metrics_frame

MAX_CANDLES = 3000
# Beyond this many trades a chart shows the ones with the largest PnL either way (and as many fills, evenly
# spread): hundreds of markers would hide the candles they mark.
MAX_TRADES = 150
WIN, LOSS = "#2ca02c", "#d62728"


def downsample(candles: pd.DataFrame, max_points: int = MAX_CANDLES) -> pd.DataFrame:
    """Coarser candles when there are more than `max_points`, so a year of minutes stays drawable."""
    if len(candles) <= max_points:
        return candles
    span = candles["time"].iloc[-1] - candles["time"].iloc[0]
    width = max(span / max_points, pd.Timedelta(minutes=1)).ceil("min")
    grouped = candles.set_index("time").resample(width, label="left", closed="left")
    out = grouped.agg({"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
    return out.dropna(subset=["open"]).reset_index()


def thin(count: int, most: int) -> np.ndarray:
    """Positions of at most `most` of `count` items, evenly spread, first and last kept."""
    if count <= most:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, most).round().astype(int))


def _price_traces(
    candles: pd.DataFrame,
    result: BacktestResult,
    product_id: str,
    indicators: Mapping[str, pd.Series] | None,
    max_trades: int,
) -> tuple[list[BaseTraceType], str]:
    """The candles, the strategy's indicators, each trade's line from entry to exit (green won, red lost) and
    the fills, thinned past `max_trades`; and a note of what was left out."""
    shown = downsample(candles)
    traces: list[BaseTraceType] = [
        go.Candlestick(
            x=shown["time"],
            open=shown["open"],
            high=shown["high"],
            low=shown["low"],
            close=shown["close"],
            name=product_id,
        )
    ]
    times, shown_times = (pd.to_datetime(frame["time"], utc=True) for frame in (candles, shown))
    for name, series in (indicators or {}).items():
        values = pd.Series(np.asarray(series, dtype=float), index=times).reindex(shown_times)
        traces.append(go.Scatter(x=shown["time"], y=values, name=name, mode="lines", line={"width": 1}))
    trades = [t for t in result.trades if t.product_id == product_id and t.exit_time is not None]
    kept = sorted(trades, key=lambda t: abs(t.pnl), reverse=True)[:max_trades]
    for label, colour, won in (("won", WIN, True), ("lost", LOSS, False)):
        group = [t for t in kept if (t.pnl > 0) == won]
        x: list[object] = []
        y: list[float | None] = []
        for t in group:
            x += [t.entry_time, t.exit_time, None]
            y += [float(t.entry_price), float(t.exit_price or t.entry_price), None]
        traces.append(go.Scatter(x=x, y=y, mode="lines", name=f"trades {label}", line={"color": colour, "width": 2}))
    fills = [f for f in result.fills if f.product_id == product_id]
    fills = [fills[i] for i in thin(len(fills), 2 * max_trades)]
    for side, symbol, colour in (("BUY", "triangle-up", WIN), ("SELL", "triangle-down", LOSS)):
        chosen = [f for f in fills if f.side.value == side]
        traces.append(
            go.Scatter(
                x=[f.time for f in chosen],
                y=[float(f.price) for f in chosen],
                mode="markers",
                name=side.lower(),
                marker={"symbol": symbol, "size": 9, "color": colour},
            )
        )
    note = f" ({len(kept)} of {len(trades)} trades drawn, largest PnL)" if len(kept) < len(trades) else ""
    return traces, note


def price_figure(
    candles: pd.DataFrame,
    result: BacktestResult,
    product_id: str,
    *,
    indicators: Mapping[str, pd.Series] | None = None,
    max_trades: int = MAX_TRADES,
) -> go.Figure:
    """Candles with the strategy's indicators (see `gpttrader.reports.indicators`) and its trades."""
    traces, note = _price_traces(candles, result, product_id, indicators, max_trades)
    figure = go.Figure(traces)
    figure.update_layout(title=f"{product_id}: price and trades{note}", xaxis_rangeslider_visible=False)
    return figure


def price_equity_figure(
    candles: pd.DataFrame,
    result: BacktestResult,
    product_id: str,
    *,
    benchmark: pd.Series | None = None,
    indicators: Mapping[str, pd.Series] | None = None,
    max_trades: int = MAX_TRADES,
) -> go.Figure:
    """Price and trades above equity (with buy and hold and the guards' events) and drawdown, on one shared
    time axis: zooming one zooms all."""
    figure = make_subplots(rows=3, cols=1, shared_xaxes=True, row_heights=[0.5, 0.3, 0.2], vertical_spacing=0.03)
    traces, note = _price_traces(candles, result, product_id, indicators, max_trades)
    for trace in traces:
        figure.add_trace(trace, row=1, col=1)
    for trace in _equity_traces(result, benchmark):
        figure.add_trace(trace, row=2, col=1)
    figure.add_trace(_drawdown_trace(result), row=3, col=1)
    figure.update_layout(title=f"{product_id}: price, equity and drawdown{note}", height=900)
    figure.update_xaxes(rangeslider_visible=False)
    figure.update_yaxes(tickformat=".0%", row=3, col=1)
    return figure


_GUARD_MARKERS = {
    EventType.RISK_GUARD_WARNING: ("guard warning", "triangle-up", "orange"),
    EventType.RISK_GUARD_BREACHED: ("guard breached", "x", "red"),
    EventType.RISK_STATE_CHANGED: ("trading state", "diamond", "black"),
}


def _equity_traces(result: BacktestResult, benchmark: pd.Series | None) -> list[go.Scatter]:
    """Equity, buy and hold (when given), and the risk guards' warnings, breaches and state changes marked
    where they happened (hover for the guard, its value and the state entered)."""
    equity = result.equity
    traces = [go.Scatter(x=equity.index, y=equity, name="equity")]
    if benchmark is not None:
        traces.append(go.Scatter(x=benchmark.index, y=benchmark, name="buy and hold", line={"dash": "dot"}))
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
        traces.append(
            go.Scatter(
                x=times,
                y=equity.reindex(times, method="ffill"),
                mode="markers",
                name=label,
                text=text,
                marker={"symbol": symbol, "size": 11, "color": colour},
            )
        )
    return traces


def _drawdown_trace(result: BacktestResult) -> go.Scatter:
    equity = result.equity
    peak = np.maximum.accumulate(np.r_[float(result.initial_cash), equity.to_numpy(dtype=float)])[1:]
    return go.Scatter(x=equity.index, y=equity / peak - 1, name="drawdown", fill="tozeroy")


def equity_figure(result: BacktestResult, benchmark: pd.Series | None = None) -> go.Figure:
    """Equity (and buy and hold, when given) with the guards' events marked, and drawdown."""
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.05)
    for trace in _equity_traces(result, benchmark):
        figure.add_trace(trace, row=1, col=1)
    figure.add_trace(_drawdown_trace(result), row=2, col=1)
    figure.update_layout(title="Equity and drawdown")
    figure.update_yaxes(tickformat=".0%", row=2, col=1)
    return figure


def monthly_returns_figure(result: BacktestResult) -> go.Figure:
    """Monthly returns, one row a year, with only the months the run covers as columns."""
    grid = monthly_grid(result.equity, float(result.initial_cash))
    figure = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=list(grid.columns),
            y=[str(y) for y in grid.index],
            colorscale="RdYlGn",
            zmid=0,
            texttemplate="%{z:.1%}",
            hovertemplate="%{y} %{x}: %{z:.2%}<extra></extra>",
        )
    )
    figure.update_layout(title="Monthly returns", height=160 + 40 * len(grid))
    return figure


def annual_returns_figure(result: BacktestResult) -> go.Figure:
    returns = annual_returns(result.equity, float(result.initial_cash))
    figure = go.Figure(
        go.Bar(
            x=[str(y) for y in returns.index],
            y=returns,
            marker_color=[WIN if r > 0 else LOSS for r in returns],
            texttemplate="%{y:.1%}",
        )
    )
    figure.update_layout(title="Annual returns", xaxis_type="category")
    figure.update_yaxes(tickformat=".0%")
    return figure


def rolling_figure(result: BacktestResult, window: int | None = None) -> go.Figure:
    """Rolling Sharpe ratio and volatility (annualized, over a trailing window of bars)."""
    stats = rolling_stats(result.equity, float(result.initial_cash), window)
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    figure.add_trace(go.Scatter(x=stats.index, y=stats["sharpe"], name="rolling Sharpe"), row=1, col=1)
    figure.add_trace(go.Scatter(x=stats.index, y=stats["volatility"], name="rolling volatility"), row=2, col=1)
    figure.update_yaxes(tickformat=".0%", row=2, col=1)
    figure.update_layout(title="Rolling Sharpe ratio and volatility")
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


def table_figure(frame: pd.DataFrame, title: str = "") -> go.Figure:
    """A table with room for every row (no scrolling inside a fixed height); the index is its first column."""
    shown = frame.reset_index()
    cells = [shown[c].astype(str).replace({"NaT": "", "nan": ""}).tolist() for c in shown.columns]
    figure = go.Figure(
        go.Table(
            header={"values": [str(c) if c != "index" else "" for c in shown.columns], "align": "left"},
            cells={"values": cells, "align": "left", "height": 26},
        )
    )
    figure.update_layout(title=title or None, height=26 * len(shown) + 60 + (40 if title else 0))
    figure.update_layout(margin={"t": 50 if title else 10, "b": 10})
    return figure


def metrics_table(result: BacktestResult, benchmark: Mapping[str, float] | None = None) -> go.Figure:
    """Every metric, named and formatted (with the benchmark's comparison when given)."""
    return table_figure(metrics_frame(result, benchmark).rename_axis("metric"), "Metrics")


def sweep_heatmap(sweep: pd.DataFrame, x: str, y: str, metric: str = "sharpe") -> go.Figure:
    """A two-parameter sweep's `metric` over the grid: `x`'s values across, `y`'s down (a combination that
    failed or was not run is blank)."""
    grid = sweep.pivot_table(index=y, columns=x, values=metric, aggfunc="mean").sort_index().sort_index(axis=1)
    figure = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(dtype=float),
            x=[str(v) for v in grid.columns],
            y=[str(v) for v in grid.index],
            colorscale="RdYlGn",
            texttemplate="%{z:.2f}",
            hovertemplate=f"{x}=%{{x}} {y}=%{{y}}: {metric} %{{z:.3f}}<extra></extra>",
        )
    )
    figure.update_layout(title=f"Sweep: {metric} by {x} and {y}", xaxis_title=x, yaxis_title=y)
    figure.update_xaxes(type="category")
    figure.update_yaxes(type="category")
    return figure
