"""The price path the sandbox quotes and fills against: one-minute candles replayed on the wall clock.

Position on the path is measured in minutes. Before the sandbox started, the path runs at real pace (so
candle history exists); from the start it runs `speed` times faster than the wall clock, and an admin
call can jump it forward or freeze it. Before the sample (negative positions) the path goes on as a
synthetic prehistory (see prehistory.py) that meets the sample's first open, so that years back have
candles. Within a candle the price moves open -> low -> high -> close for an up candle (open -> high ->
low -> close for a down one), linearly over the minute, so every candle's high and low are actually
traded through.
"""

import math
import threading

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gpttrader.sandbox.prehistory import Prehistory
from gpttrader.sandbox.walltime import WallTime

Floats = NDArray[np.float64]


class PricePath:
    def __init__(self, candles: pd.DataFrame, *, history_minutes: int, origin_minute: int) -> None:
        """`origin_minute`: the UNIX minute the sample's first candle is replayed at (path minute 0)."""
        if len(candles) <= history_minutes:
            raise ValueError(f"need more than {history_minutes} candles, got {len(candles)}")
        self._o = candles["open"].to_numpy(dtype=float)
        self._h = candles["high"].to_numpy(dtype=float)
        self._l = candles["low"].to_numpy(dtype=float)
        self._c = candles["close"].to_numpy(dtype=float)
        self._v = candles["volume"].to_numpy(dtype=float)
        self.history_minutes = history_minutes
        self._before = Prehistory(float(self._o[0]), float(np.median(self._v)), origin_minute)

    @property
    def length(self) -> int:
        return len(self._o)

    def price(self, position: float) -> float:
        """Traded price at `position` minutes along the path (clamped to the sample's end)."""
        position = min(position, self.length - 1e-9)
        i = math.floor(position)
        frac = position - i
        if i >= 0:  # the hot path (every quote and fill): no slicing
            o, h, lo, c = self._o[i], self._h[i], self._l[i], self._c[i]
        else:
            o, h, lo, c = (float(a[0]) for a in self._minutes(i, i + 1)[:4])
        waypoints = (o, lo, h, c) if c >= o else (o, h, lo, c)
        leg = min(int(frac * 3), 2)
        t = frac * 3 - leg
        return float(waypoints[leg] + (waypoints[leg + 1] - waypoints[leg]) * t)

    def span(self, start: float, end: float) -> tuple[float, float, float, float, float]:
        """Open, high, low, close and volume traded between two positions, exactly: candles wholly inside
        the span contribute their own high, low and volume; partly covered ones are sampled at the
        waypoints (every third of a minute) where the price turns."""
        start, end = (min(p, float(self.length)) for p in (start, end))
        first, last = self.price(start), self.price(end)
        high, low = max(first, last), min(first, last)
        a, b = math.ceil(start), math.floor(end)
        volume = 0.0
        if b > a:
            _, highs, lows, _, volumes = self._minutes(a, b)
            high = max(high, float(highs.max()))
            low = min(low, float(lows.min()))
            volume += float(volumes.sum())
        for lo, hi in ((start, min(float(a), end)), (max(float(b), start), end)) if b >= a else ((start, end),):
            for k in range(math.ceil(lo * 3), math.floor(hi * 3) + 1):
                traded = self.price(k / 3)
                high, low = max(high, traded), min(low, traded)
            if hi > lo:
                volume += self.minute_volume(lo) * (hi - lo)
        return first, high, low, last, volume

    def minute_volume(self, position: float) -> float:
        i = min(math.floor(position), self.length - 1)
        return float(self._minutes(i, i + 1)[4][0])

    def _minutes(self, first: int, stop: int) -> tuple[Floats, ...]:
        """Open, high, low, close and volume of minutes `first` to `stop` (exclusive): the prehistory's before
        the sample, then the sample's."""
        sample = tuple(a[max(first, 0) : max(stop, 0)] for a in (self._o, self._h, self._l, self._c, self._v))
        if first >= 0:
            return sample
        before = self._before.candles(first, min(stop, 0))
        return tuple(np.concatenate([b, s]) for b, s in zip(before, sample, strict=True))


class MarketClock:
    """Maps wall time to a position on the path; thread-safe, since the server and tests both move it."""

    def __init__(self, started_at: float, history_minutes: int, speed: float, wall: WallTime | None = None) -> None:
        if speed < 0:
            raise ValueError(f"speed must be >= 0, got {speed}")
        self.wall = wall or WallTime()
        self.started_at = started_at
        self.history_minutes = history_minutes
        self.speed = speed
        self._offset = 0.0
        self._frozen_at: float | None = None
        self._lock = threading.Lock()

    def position(self, wall: float | None = None) -> float:
        now = self.wall.now() if wall is None else wall
        with self._lock:
            if now < self.started_at:
                return self.history_minutes + (now - self.started_at) / 60
            if self._frozen_at is not None:
                return self._frozen_at
            return self.history_minutes + (now - self.started_at) / 60 * self.speed + self._offset

    def advance(self, minutes: float) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += minutes
            else:
                self._offset += minutes

    def freeze(self, frozen: bool) -> None:
        current = self.position()
        with self._lock:
            if frozen and self._frozen_at is None:
                self._frozen_at = current
            elif not frozen and self._frozen_at is not None:
                # Resume from where the feed froze, not from where the wall clock would have put it.
                live = self.history_minutes + (self.wall.now() - self.started_at) / 60 * self.speed
                self._offset = self._frozen_at - live
                self._frozen_at = None
