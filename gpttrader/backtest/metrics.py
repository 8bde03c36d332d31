"""Performance metrics of a backtest, from its equity curve and its trades.

Returns are per bar; annualizing uses the bar spacing (bars per 365-day year). The risk-free rate is 0.
"""

import math
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from gpttrader.backtest.result import BacktestResult

YEAR = pd.Timedelta(days=365)


def bar_returns(equity: pd.Series, initial_cash: float) -> pd.Series:
    """Each bar's return, the first from the starting cash (so a loss on the first bar counts)."""
    values = equity.to_numpy(dtype=float)
    before = np.r_[initial_cash, values[:-1]]
    return pd.Series((values - before) / before, index=equity.index)


def bar_spacing(times: pd.Index) -> pd.Timedelta:
    return pd.Timedelta(pd.Series(times).diff().median()) if len(times) > 1 else YEAR


def bars_per_year(times: pd.Index) -> float:
    spacing = bar_spacing(times)
    return float(YEAR / spacing) if spacing > pd.Timedelta(0) else 1.0


def trade_statistics(result: "BacktestResult") -> dict[str, float]:
    """The closed trips' best and worst, average win and loss, average time held and the system quality
    number (SQN: the square root of the trade count times mean PnL over its spread, as backtesting.py has it)."""
    closed = [t for t in result.trades if t.exit_time is not None]
    pnl = np.array([float(t.pnl) for t in closed])
    held = [(t.exit_time - t.entry_time).total_seconds() / 3600 for t in closed if t.exit_time is not None]
    wins, losses = pnl[pnl > 0], pnl[pnl <= 0]
    spread = float(pnl.std(ddof=1)) if len(pnl) > 1 else 0.0
    return {
        "best_trade": float(pnl.max()) if len(pnl) else 0.0,
        "worst_trade": float(pnl.min()) if len(pnl) else 0.0,
        "average_win": float(wins.mean()) if len(wins) else 0.0,
        "average_loss": float(losses.mean()) if len(losses) else 0.0,
        "average_trade_hours": float(np.mean(held)) if held else 0.0,
        "sqn": math.sqrt(len(pnl)) * float(pnl.mean()) / spread if spread else 0.0,
    }


def compute_metrics(result: "BacktestResult") -> dict[str, float]:
    equity = result.equity.to_numpy(dtype=float)
    initial = float(result.initial_cash)
    times = result.equity.index
    returns = bar_returns(result.equity, initial).to_numpy()
    spacing = bar_spacing(times)
    per_year = bars_per_year(times)
    years = max(float((times[-1] - times[0] + spacing) / YEAR), 1e-9)
    total = equity[-1] / initial - 1
    volatility = float(returns.std(ddof=1) * math.sqrt(per_year)) if len(returns) > 1 else 0.0
    downside = returns[returns < 0]
    downside_dev = float(np.sqrt((downside**2).sum() / len(returns)) * math.sqrt(per_year)) if len(returns) else 0.0
    mean = float(returns.mean() * per_year)
    peak = np.maximum.accumulate(np.r_[initial, equity])[1:]
    drawdown = equity / peak - 1
    max_dd = float(drawdown.min()) if len(drawdown) else 0.0
    # The longest run of bars under water: from each step below the peak to the next step back onto it.
    edges = np.diff(np.r_[0, (drawdown < 0).astype(np.int8), 0])
    runs = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    longest = int(runs.max()) if len(runs) else 0
    with np.errstate(over="ignore"):  # minutes of history annualize to infinity, which is what they say
        cagr = (equity[-1] / initial) ** (1 / years) - 1 if equity[-1] > 0 else -1.0
    closed = [t for t in result.trades if t.exit_time is not None]
    pnl = [float(t.pnl) for t in closed]
    wins = [p for p in pnl if p > 0]
    losses = [p for p in pnl if p <= 0]
    traded = sum((f.price * f.size for f in result.fills), Decimal(0))
    return {
        "total_return": float(total),
        "cagr": float(cagr),
        "volatility": volatility,
        "sharpe": mean / volatility if volatility else 0.0,
        "sortino": mean / downside_dev if downside_dev else 0.0,
        "max_drawdown": max_dd,
        "max_drawdown_duration_bars": float(longest),
        "calmar": float(cagr / abs(max_dd)) if max_dd else 0.0,
        "trades": float(len(closed)),
        "win_rate": len(wins) / len(pnl) if pnl else 0.0,
        "profit_factor": sum(wins) / abs(sum(losses)) if losses and sum(losses) else float("inf") if wins else 0.0,
        "expectancy": float(np.mean(pnl)) if pnl else 0.0,
        "exposure": float((result.exposure > 0).mean()),
        "turnover": float(traded) / float(np.mean(equity)) if len(equity) else 0.0,
        "fees_paid": float(result.fees_paid),
        **trade_statistics(result),
    }
