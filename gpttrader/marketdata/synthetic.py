"""A seeded generator of realistic one-minute candles, so that everything can run offline and repeatably.

The model, per minute:
- volatility switches between a quiet and a volatile regime (a two-state Markov chain), so that calm
  stretches and bursts alternate as they do in crypto markets;
- log returns are Student-t (fat tails) scaled to the regime's volatility, with a small drift;
- intrabar high and low extend beyond open/close by a regime-scaled excursion;
- volume follows an intraday U-shape by UTC hour and rises with absolute return and in the volatile regime.
The same (spec, seed) always gives the same candles.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

MINUTES_PER_YEAR = 365 * 24 * 60


@dataclass(frozen=True, slots=True)
class SyntheticSpec:
    product_id: str
    start_price: float
    annual_vol_quiet: float = 0.45
    annual_vol_volatile: float = 1.10
    annual_drift: float = 0.05
    base_volume: float = 5.0
    p_enter_volatile: float = 0.0008
    p_leave_volatile: float = 0.006
    tail_dof: float = 4.0


def synthetic_candles(spec: SyntheticSpec, start: datetime, minutes: int, seed: int) -> pd.DataFrame:
    """`minutes` one-minute candles from `start` (UTC, on a minute boundary): time, open, high, low, close, volume."""
    if minutes <= 0:
        raise ValueError(f"minutes must be positive, got {minutes}")
    if start.tzinfo is None or start.second or start.microsecond:
        raise ValueError(f"start must be timezone-aware and on a minute boundary, got {start.isoformat()}")
    rng = np.random.default_rng(seed)
    switches = rng.random(minutes)
    volatile = np.empty(minutes, dtype=bool)
    state = False
    for i in range(minutes):  # a Markov chain is sequential by nature; this loop is cheap at 1 op per minute
        state = switches[i] < (1 - spec.p_leave_volatile) if state else switches[i] < spec.p_enter_volatile
        volatile[i] = state
    sigma = np.where(volatile, spec.annual_vol_volatile, spec.annual_vol_quiet) / np.sqrt(MINUTES_PER_YEAR)
    t_draws = rng.standard_t(spec.tail_dof, minutes) / np.sqrt(spec.tail_dof / (spec.tail_dof - 2))
    log_returns = spec.annual_drift / MINUTES_PER_YEAR - sigma**2 / 2 + sigma * t_draws
    close = spec.start_price * np.exp(np.cumsum(log_returns))
    open_ = np.concatenate(([spec.start_price], close[:-1]))
    excursion_up = np.abs(rng.normal(0, 0.6, minutes)) * sigma
    excursion_down = np.abs(rng.normal(0, 0.6, minutes)) * sigma
    high = np.maximum(open_, close) * np.exp(excursion_up)
    low = np.minimum(open_, close) * np.exp(-excursion_down)
    times = pd.date_range(start.astimezone(UTC), periods=minutes, freq="1min")
    hours = times.hour.to_numpy()
    intraday = 1.0 + 0.6 * np.cos((hours - 15) / 24 * 2 * np.pi)  # busiest around the US/EU overlap
    activity = 1.0 + np.abs(log_returns) / sigma * 0.5 + volatile * 1.5
    volume = spec.base_volume * intraday * activity * rng.lognormal(0, 0.35, minutes)
    frame = pd.DataFrame({"time": times, "open": open_, "high": high, "low": low, "close": close, "volume": volume})
    frame.attrs["product_id"] = spec.product_id  # what a backtest of them trades
    return frame
