"""The market before the replayed sample: synthetic minute candles back to any date, so that a client
backfilling years (as it would at Coinbase) sees data rather than nothing.

More than `JOIN_MINUTES` before the sample, the price is a function of the market (its first open) and the
UTC minute alone, not of when the sandbox started: every sandbox answers the same prices for the same old
window, as Coinbase does. Its log level is a sum of slow cycles (weeks to
years) and a daily shock, joined minute by minute within each day by a seeded Brownian bridge; over the
last `JOIN_MINUTES` before the sample the level is pulled, linearly, onto the sample's first open, so
the two meet without a gap.
"""

import functools
import math
import zlib

import numpy as np
from numpy.typing import NDArray

DAY_MINUTES = 1440
JOIN_MINUTES = 30 * DAY_MINUTES
_CYCLE_DAYS = (23.0, 97.0, 367.0, 1103.0)
_CYCLE_AMPLITUDES = (0.04, 0.10, 0.22, 0.35)
_DAILY_SHOCK = 0.03
_MINUTE_VOL = 0.0007  # about 2.7% a day from the bridge alone
_WICK = 0.6 * _MINUTE_VOL

Floats = NDArray[np.float64]


class Prehistory:
    """Minute candles before a sample that starts at UNIX minute `origin_minute` with `first_open`."""

    def __init__(self, first_open: float, volume: float, origin_minute: int) -> None:
        # Seeded by the price level, so that each market has its own path, the same in every sandbox.
        self._seed = zlib.crc32(f"{first_open:.10g}".encode())
        self._level = math.log(first_open)
        self._volume = volume
        self._origin = origin_minute
        phases = np.random.default_rng(self._seed).uniform(0, 2 * math.pi, len(_CYCLE_DAYS))
        self._phases = tuple(float(p) for p in phases)
        day, minute = divmod(origin_minute, DAY_MINUTES)
        self._gap = float(self._deviation(day)[minute])  # what the join pulls away by the sample's start
        self._day = functools.lru_cache(maxsize=32)(self._day_candles)

    def candles(self, first: int, stop: int) -> tuple[Floats, ...]:
        """Open, high, low, close and volume of path minutes `first` to `stop` (exclusive; all before 0)."""
        low, high = first + self._origin, stop + self._origin
        pieces = [
            self._day(day)[:, max(low - day * DAY_MINUTES, 0) : min(high - day * DAY_MINUTES, DAY_MINUTES)]
            for day in range(low // DAY_MINUTES, (high - 1) // DAY_MINUTES + 1)
        ]
        return tuple(np.concatenate(pieces, axis=1))

    def _day_candles(self, day: int) -> Floats:
        """The day's minutes as rows: open, high, low, close, volume."""
        minutes = day * DAY_MINUTES + np.arange(DAY_MINUTES + 1)
        join = np.clip(1 - (self._origin - minutes) / JOIN_MINUTES, 0, 1)
        prices = np.exp(self._level + self._deviation(day) - self._gap * join)
        opens, closes = prices[:-1], prices[1:]
        _, up, down, activity = _day_draws(self._seed, day)
        highs = np.maximum(opens, closes) * np.exp(up)
        lows = np.minimum(opens, closes) * np.exp(-down)
        return np.stack([opens, highs, lows, closes, self._volume * activity])

    def _deviation(self, day: int) -> Floats:
        """The log level's deviation at the day's minute boundaries (both ends), before the join."""
        along = np.arange(DAY_MINUTES + 1) / DAY_MINUTES
        # Weighted, not start + (end - start) * along: a day's last boundary must be its next day's first, exactly.
        return self._anchor(day) * (1 - along) + self._anchor(day + 1) * along + _bridge(self._seed, day)

    def _anchor(self, day: int) -> float:
        cycles = sum(
            a * math.sin(2 * math.pi * day / period + phase)
            for a, period, phase in zip(_CYCLE_AMPLITUDES, _CYCLE_DAYS, self._phases, strict=True)
        )
        return cycles + _DAILY_SHOCK * _day_draws(self._seed, day)[0]


@functools.lru_cache(maxsize=64)
def _day_draws(seed: int, day: int) -> tuple[float, Floats, Floats, Floats]:
    """A day's shock and its minutes' wicks and volume factors: one generator per (market, day), so that any
    day is drawn alone, in any order."""
    rng = np.random.default_rng((seed, day % 2**32, 1))
    shock = float(rng.standard_normal())
    up = np.abs(rng.standard_normal(DAY_MINUTES)) * _WICK
    down = np.abs(rng.standard_normal(DAY_MINUTES)) * _WICK
    activity = rng.lognormal(0, 0.35, DAY_MINUTES)
    return shock, up, down, activity


@functools.lru_cache(maxsize=64)
def _bridge(seed: int, day: int) -> Floats:
    """A Brownian bridge over the day's minute boundaries, zero at both ends (the anchors carry the level)."""
    rng = np.random.default_rng((seed, day % 2**32, 2))
    walk = np.concatenate([[0.0], np.cumsum(rng.standard_normal(DAY_MINUTES) * _MINUTE_VOL)])
    bridge: Floats = walk - walk[-1] * np.arange(DAY_MINUTES + 1) / DAY_MINUTES
    return bridge
