"""The equity curve cut into periods: annual and monthly returns (only the periods the run covers), the
worst drawdowns with their dates, and rolling Sharpe ratio and volatility."""

import math

import numpy as np
import pandas as pd

from gpttrader.backtest.metrics import bar_returns, bars_per_year

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def period_returns(equity: pd.Series, initial_cash: float, freq: str) -> pd.Series:
    """The return of each period ("ME" months, "YE" years) the run touches, the first from the starting cash."""
    closes = equity.resample(freq).last().dropna()
    values = closes.to_numpy(dtype=float)
    return pd.Series(values / np.r_[initial_cash, values[:-1]] - 1, index=closes.index)


def annual_returns(equity: pd.Series, initial_cash: float) -> pd.Series:
    returns = period_returns(equity, initial_cash, "YE")
    return pd.Series(returns.to_numpy(), index=pd.DatetimeIndex(returns.index).year, name="return")


def monthly_grid(equity: pd.Series, initial_cash: float) -> pd.DataFrame:
    """Years by months, with only the months the run covers as columns (a 3-month run has 3), in calendar
    order; a month a year did not trade is NaN."""
    returns = period_returns(equity, initial_cash, "ME")
    months = pd.DatetimeIndex(returns.index)
    table = pd.DataFrame({"year": months.year, "month": months.month, "return": returns.to_numpy()})
    grid = table.pivot(index="year", columns="month", values="return")
    return grid.reindex(columns=sorted(grid.columns)).rename(columns=dict(enumerate(MONTHS, start=1)))


def drawdown_periods(equity: pd.Series, initial_cash: float, top: int = 5) -> pd.DataFrame:
    """The `top` deepest drawdowns, deepest first: the peak, the trough, the recovery (NaT if still under
    water at the end), the depth and how long from peak to recovery (or to the end)."""
    values = equity.to_numpy(dtype=float)
    peaks = np.maximum.accumulate(np.r_[initial_cash, values])[1:]
    under = values < peaks
    rows = []
    times = equity.index
    edges = np.diff(np.r_[0, under.astype(np.int8), 0])
    for first, stop in zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True):
        trough = first + int(np.argmin(values[first:stop] / peaks[first:stop]))
        recovered = stop < len(values)
        start = times[first - 1] if first > 0 else times[0]
        end = times[stop] if recovered else pd.NaT
        rows.append(
            {
                "peak": start,
                "trough": times[trough],
                "recovery": end,
                "depth": values[trough] / peaks[trough] - 1,
                "duration": (end if recovered else times[-1]) - start,
            }
        )
    kinds = {"peak": times.dtype, "trough": times.dtype, "recovery": times.dtype, "depth": float, "duration": "m8[ns]"}
    frame = pd.DataFrame({name: pd.Series([r[name] for r in rows], dtype=kind) for name, kind in kinds.items()})
    return frame.sort_values("depth").head(top).reset_index(drop=True)


def default_window(index: pd.Index) -> int:
    """About 30 days of bars, at least 10 and at most a quarter of the run, so a short run still has a line."""
    month = bars_per_year(index) * 30 / 365
    return max(10, min(round(month), len(index) // 4))


def rolling_stats(equity: pd.Series, initial_cash: float, window: int | None = None) -> pd.DataFrame:
    """Annualized Sharpe ratio and volatility over a trailing window of bars (the risk-free rate 0)."""
    returns = bar_returns(equity, initial_cash)
    bars = window or default_window(equity.index)
    scale = math.sqrt(bars_per_year(equity.index))
    rolling = returns.rolling(bars, min_periods=bars)
    spread = rolling.std(ddof=1)
    volatility = spread * scale
    sharpe = (rolling.mean() / spread.where(spread > 0)) * scale
    return pd.DataFrame({"sharpe": sharpe, "volatility": volatility})
