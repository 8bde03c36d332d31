"""The tearsheet's tables as a reader sees them: readable names, percentages, money and counts (never
snake_case or scientific notation), and the run's header (period, products, timeframe, costs, cash)."""

import math
from collections.abc import Mapping
from typing import Literal

import pandas as pd

from gpttrader.backtest import BacktestResult
from gpttrader.backtest.metrics import bar_spacing

Kind = Literal["percent", "money", "count", "ratio", "hours", "bars"]

# Every metric a result or the benchmark comparison has, in the order a tearsheet shows them. A metric not
# listed is still shown (named from its key, as a ratio), so a new one is never hidden.
METRICS: dict[str, tuple[str, Kind]] = {
    "final_equity": ("Final equity", "money"),
    "total_return": ("Total return", "percent"),
    "benchmark_return": ("Buy and hold return", "percent"),
    "excess_return": ("Excess return", "percent"),
    "cagr": ("CAGR", "percent"),
    "volatility": ("Volatility (annual)", "percent"),
    "sharpe": ("Sharpe ratio", "ratio"),
    "sortino": ("Sortino ratio", "ratio"),
    "calmar": ("Calmar ratio", "ratio"),
    "alpha": ("Alpha (annual)", "percent"),
    "beta": ("Beta", "ratio"),
    "max_drawdown": ("Max drawdown", "percent"),
    "max_drawdown_duration_bars": ("Longest drawdown", "bars"),
    "trades": ("Trades", "count"),
    "win_rate": ("Win rate", "percent"),
    "profit_factor": ("Profit factor", "ratio"),
    "expectancy": ("Expectancy per trade", "money"),
    "best_trade": ("Best trade", "money"),
    "worst_trade": ("Worst trade", "money"),
    "average_win": ("Average win", "money"),
    "average_loss": ("Average loss", "money"),
    "average_trade_hours": ("Average trade duration", "hours"),
    "sqn": ("SQN", "ratio"),
    "exposure": ("Time in market", "percent"),
    "turnover": ("Turnover (x equity)", "ratio"),
    "fees_paid": ("Fees paid", "money"),
}


def format_value(value: float, kind: Kind) -> str:
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if kind == "percent":
        return f"{value:,.2%}"
    if kind == "money":
        return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"
    if kind in ("count", "bars"):
        return f"{value:,.0f}" + (" bars" if kind == "bars" else "")
    if kind == "hours":
        return f"{value / 24:,.1f} days" if value >= 48 else f"{value:,.1f} hours"
    return f"{value:,.2f}"


def metrics_frame(result: BacktestResult, benchmark: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Every metric, named and formatted, one row each (the `value` column holds text)."""
    values = {"final_equity": result.final_equity, **result.metrics, **(benchmark or {})}
    order = [k for k in METRICS if k in values] + [k for k in values if k not in METRICS]
    rows = {}
    for key in order:
        label, kind = METRICS.get(key, (key.replace("_", " ").capitalize(), "ratio"))
        rows[label] = format_value(float(values[key]), kind)
    return pd.DataFrame({"value": rows})


def timeframe(candles: pd.DataFrame) -> str:
    """The bar width as a trader writes it: 1m, 15m, 1h, 6h, 1d."""
    width = bar_spacing(pd.DatetimeIndex(pd.to_datetime(candles["time"], utc=True)))
    for unit, size in (("d", pd.Timedelta(days=1)), ("h", pd.Timedelta(hours=1)), ("m", pd.Timedelta(minutes=1))):
        if width >= size and width % size == pd.Timedelta(0):
            return f"{width // size}{unit}"
    return str(width)


def header_frame(result: BacktestResult, candles: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """What the run was: its period, products, timeframe, strategy and parameters, costs and starting cash."""
    first = min(pd.Timestamp(f["time"].iloc[0]) for f in candles.values())
    last = max(pd.Timestamp(f["time"].iloc[-1]) for f in candles.values())
    rows = {
        "Period": f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC ({(last - first).days} days)",
        "Products": ", ".join(candles),
        "Timeframe": ", ".join(sorted({timeframe(f) for f in candles.values()})),
    }
    settings = result.settings
    if settings is not None:
        rows["Strategy"] = settings.strategy.name
        rows["Parameters"] = ", ".join(f"{k}={v}" for k, v in settings.parameters.items()) or "defaults"
        rows["Fees"] = f"{float(settings.maker_fee):.2%} maker, {float(settings.taker_fee):.2%} taker"
        rows["Slippage"] = f"{float(settings.slippage_bps):g} bps"
    rows["Starting cash"] = format_value(float(result.initial_cash), "money")
    return pd.DataFrame({"value": rows})
