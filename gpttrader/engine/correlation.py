"""The concentration guard's input live: correlation-weighted exposure from the marks' returns, one sample a
cycle (a bar's length), as the backtest computes it from the bars' closes (`risk.metrics.correlated_exposure`).

Until a pair has `window` returns in common its correlation is unknown, which counts as 1: the worst case,
as in the backtest.
"""

from collections import deque
from collections.abc import Mapping
from decimal import Decimal

import numpy as np

from gpttrader.risk.metrics import correlated_exposure


class MarkReturns:
    def __init__(self, product_ids: list[str], window: int) -> None:
        self._window = window
        self._marks: dict[str, deque[float]] = {pid: deque(maxlen=window + 1) for pid in product_ids}

    def sample(self, marks: Mapping[str, Decimal]) -> None:
        for pid, history in self._marks.items():
            mark = marks.get(pid)
            if mark is not None and mark > 0:
                history.append(float(mark))

    def concentration(self, notional: Mapping[str, Decimal], equity: Decimal) -> float:
        """sqrt(w' C w) with w the signed notional over equity (0 with no position or no equity to weigh by)."""
        if equity <= 0 or not notional:
            return 0.0
        weights = {pid: np.array([float(value / equity)]) for pid, value in notional.items()}
        return float(correlated_exposure(weights, self._correlations(sorted(weights)))[0])

    def _correlations(self, names: list[str]) -> dict[tuple[str, str], np.ndarray]:
        found = {}
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                rho = self._correlation(a, b)
                if rho is not None:
                    found[(a, b)] = np.array([rho])
        return found

    def _correlation(self, a: str, b: str) -> float | None:
        marks_a, marks_b = self._marks.get(a), self._marks.get(b)
        if marks_a is None or marks_b is None or min(len(marks_a), len(marks_b)) <= self._window:
            return None
        returns_a, returns_b = np.diff(np.log(np.array(marks_a))), np.diff(np.log(np.array(marks_b)))
        if returns_a.std() == 0 or returns_b.std() == 0:
            return None
        return float(np.corrcoef(returns_a, returns_b)[0, 1])
