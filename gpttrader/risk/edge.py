"""The edge a strategy has shown on a product, from its own round trips: what Kelly sizing is fed.

Each closed round trip counts as its PnL after fees over its entry notional (a fraction, so that trips of
different sizes and prices weigh alike). The estimate is shrunk toward no edge: a Bayesian prior of
`prior_trades` imaginary trips, half won and half lost, each of the record's own average magnitude, so that
a handful of lucky trades never earns a large Kelly fraction, and a long record is hardly changed by it.
With no edge (a coin flip paying what it costs) the Kelly fraction is zero.
"""

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

import pandas as pd

from gpttrader.domain import Product

# A closed round trip: when, which product, its PnL after fees over its entry notional.
ClosedTrip = tuple[datetime, str, Decimal]


class EdgeSeed(Protocol):
    """Runs a strategy (the strategy layer's, which this layer cannot name) over candles through the
    backtest's engine and fee model, and returns the round trips it closed."""

    def __call__(
        self, strategy: Any, candles: Mapping[str, pd.DataFrame], products: Mapping[str, Product], fee_rate: Decimal
    ) -> list[ClosedTrip]: ...


@dataclass(frozen=True, slots=True)
class EdgeEstimate:
    """The shrunk estimate of one (strategy, product): None for the averages until a trip closed."""

    strategy: str
    product_id: str
    trades: int
    wins: int
    win_rate: Decimal | None
    avg_win: Decimal | None
    avg_loss: Decimal | None

    @property
    def kelly(self) -> Decimal | None:
        """The full Kelly fraction p - (1 - p) / R of the estimate (before any cap)."""
        if self.win_rate is None or not self.avg_win or not self.avg_loss:
            return None
        return self.win_rate - (1 - self.win_rate) / (self.avg_win / self.avg_loss)  # as KellySizer computes it

    def payload(self) -> dict[str, object]:
        kelly = self.kelly
        return {
            "strategy": self.strategy,
            "product_id": self.product_id,
            "trades": self.trades,
            "wins": self.wins,
            "win_rate": _text(self.win_rate),
            "avg_win": _text(self.avg_win),
            "avg_loss": _text(self.avg_loss),
            "kelly": _text(kelly),
        }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(round(value, 8))


@dataclass
class _Tally:
    """A window's trips, summed afresh when it changes (running sums that subtract would drift by a digit)."""

    trades: int = 0
    wins: int = 0
    won: Decimal = Decimal(0)  # sum of the winning fractions
    lost: Decimal = Decimal(0)  # sum of the losing fractions' magnitudes

    @classmethod
    def of(cls, fractions: Iterable[Decimal]) -> "_Tally":
        tally = cls()
        for fraction in fractions:
            tally.trades += 1
            if fraction > 0:
                tally.wins += 1
                tally.won += fraction
            else:
                tally.lost += -fraction
        return tally


@dataclass
class EdgeRecord:
    """Round-trip results per (strategy, product) over the last `window`, and their shrunk estimates."""

    prior_trades: int = 10
    window: timedelta = timedelta(days=30)
    _trips: dict[tuple[str, str], deque[tuple[datetime, Decimal]]] = field(
        default_factory=dict, init=False, repr=False
    )  # (closed at, fraction), oldest first
    _estimates: dict[tuple[str, str], EdgeEstimate] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.prior_trades < 0:
            raise ValueError(f"prior_trades must not be negative, got {self.prior_trades}")

    def record(self, strategy: str, product_id: str, fraction: Decimal, at: datetime) -> EdgeEstimate:
        """Count one closed round trip (its PnL after fees over its entry notional); returns the new estimate."""
        key = (strategy, product_id)
        self._trips.setdefault(key, deque()).append((at, fraction))
        self._estimates.pop(key, None)
        return self.estimate(strategy, product_id, at)

    def estimate(self, strategy: str, product_id: str, now: datetime) -> EdgeEstimate:
        """The shrunk estimate over the trips closed since `now - window` (kept until a trip comes or goes:
        every decision asks for it)."""
        key = (strategy, product_id)
        trips = self._trips.get(key, deque())
        while trips and trips[0][0] < now - self.window:
            trips.popleft()
            self._estimates.pop(key, None)
        if key not in self._estimates:
            self._estimates[key] = self._shrunk(strategy, product_id)
        return self._estimates[key]

    def _shrunk(self, strategy: str, product_id: str) -> EdgeEstimate:
        tally = _Tally.of(fraction for _, fraction in self._trips.get((strategy, product_id), ()))
        n, wins = tally.trades, tally.wins
        if n == 0:
            return EdgeEstimate(strategy, product_id, 0, 0, None, None, None)
        half = Decimal(self.prior_trades) / 2
        typical = (tally.won + tally.lost) / n  # the prior's trips are of the record's own average size
        win_rate = (wins + half) / (n + 2 * half)
        avg_win = (tally.won + half * typical) / (wins + half) if wins + half else Decimal(0)
        avg_loss = (tally.lost + half * typical) / (n - wins + half) if n - wins + half else Decimal(0)
        return EdgeEstimate(strategy, product_id, n, wins, win_rate, avg_win, avg_loss)

    def estimates(self, now: datetime) -> list[EdgeEstimate]:
        return [self.estimate(strategy, pid, now) for strategy, pid in sorted(self._trips)]
