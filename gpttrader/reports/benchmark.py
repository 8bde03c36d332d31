"""Buy and hold as the benchmark: the starting cash split equally across the products at the first close and
held, without fees, and how the strategy compares with it (excess return, beta, alpha)."""

from collections.abc import Mapping

import numpy as np
import pandas as pd

from gpttrader.backtest.metrics import bar_returns, bars_per_year


def buy_and_hold(candles: Mapping[str, pd.DataFrame], initial_cash: float, index: pd.Index) -> pd.Series:
    """The benchmark's equity at each time of `index` (the strategy's equity curve): each product's close
    relative to its first, averaged, times the starting cash; a product not yet trading holds its cash."""
    growth = []
    for frame in candles.values():
        closes = pd.Series(frame["close"].to_numpy(dtype=float), index=pd.to_datetime(frame["time"], utc=True))
        growth.append((closes / closes.iloc[0]).reindex(index, method="ffill").fillna(1.0))
    values = np.mean(np.vstack([g.to_numpy() for g in growth]), axis=0) * initial_cash
    return pd.Series(values, index=index, name="buy and hold")


def relative_metrics(equity: pd.Series, benchmark: pd.Series, initial_cash: float) -> dict[str, float]:
    """The benchmark's return, the strategy's excess over it, and the strategy's beta and annualized alpha
    against it (from bar returns, the risk-free rate 0: alpha is the mean return beta does not explain)."""
    ours, theirs = bar_returns(equity, initial_cash), bar_returns(benchmark, initial_cash)
    variance = float(theirs.var(ddof=1)) if len(theirs) > 1 else 0.0
    beta = float(ours.cov(theirs, ddof=1)) / variance if variance else 0.0
    alpha = (float(ours.mean()) - beta * float(theirs.mean())) * bars_per_year(equity.index)
    benchmark_return = float(benchmark.iloc[-1]) / initial_cash - 1
    return {
        "benchmark_return": benchmark_return,
        "excess_return": float(equity.iloc[-1]) / initial_cash - 1 - benchmark_return,
        "beta": beta,
        "alpha": alpha,
    }
