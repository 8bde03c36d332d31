"""Combine several signals into one direction and a confidence.

- weighted: the weighted mean of the signals; a direction when its size reaches `threshold`;
  confidence is that size.
- majority: the side more than half of the signals take; confidence is the share that took it.
- unanimous: a direction only when every signal takes it; confidence 1.
One function votes on a matrix (bars x signals), so a backtest's history and a live bar (a 1 x k
matrix) are decided by the same code.
"""

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from gpttrader.strategy.base import Array

VoteMethod = Literal["weighted", "majority", "unanimous"]
METHODS: tuple[VoteMethod, ...] = ("weighted", "majority", "unanimous")


@dataclass(frozen=True)
class Voter:
    method: VoteMethod = "weighted"
    weights: tuple[float, ...] = field(default_factory=tuple)
    threshold: float = 0.5

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if any(w < 0 for w in self.weights) or (self.weights and sum(self.weights) == 0):
            raise ValueError(f"weights must be >= 0 and not all zero, got {self.weights}")
        if not 0 < self.threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")

    def vote(self, signals: Array) -> tuple[Array, Array]:
        """(direction in {-1, 0, 1}, confidence in [0, 1]) per row; NaN rows (warming up) give (0, 0)."""
        matrix = np.atleast_2d(signals)
        count = matrix.shape[1]
        if self.weights and len(self.weights) != count:
            raise ValueError(f"{len(self.weights)} weights for {count} signals")
        ready = ~np.isnan(matrix).any(axis=1)
        values = np.nan_to_num(matrix)
        if self.method == "weighted":
            weights = np.asarray(self.weights or (1.0,) * count)
            score = values @ weights / weights.sum()
            direction = np.where(np.abs(score) >= self.threshold - 1e-12, np.sign(score), 0.0)
            confidence = np.abs(score)
        elif self.method == "majority":
            longs, shorts = (values > 0).sum(axis=1), (values < 0).sum(axis=1)
            direction = np.where(longs * 2 > count, 1.0, np.where(shorts * 2 > count, -1.0, 0.0))
            confidence = np.maximum(longs, shorts) / count
        else:
            direction = np.where((values > 0).all(axis=1), 1.0, np.where((values < 0).all(axis=1), -1.0, 0.0))
            confidence = np.abs(direction)
        confidence = np.where(direction == 0, 0.0, confidence)
        return np.where(ready, direction, 0.0), np.where(ready, confidence, 0.0)
