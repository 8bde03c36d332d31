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


def compute_metrics(result: "BacktestResult") -> dict[str, float]:
    equity = result.equity.to_numpy(dtype=float)
    initial = float(result.initial_cash)
    times = result.equity.index
    returns = np.diff(np.r_[initial, equity]) / np.r_[initial, equity[:-1]]
    spacing = pd.Timedelta(pd.Series(times).diff().median()) if len(times) > 1 else YEAR
    per_year = float(YEAR / spacing) if spacing > pd.Timedelta(0) else 1.0
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
    }
