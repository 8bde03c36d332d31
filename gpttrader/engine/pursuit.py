"""Target pursuit: what a product's target means as a position, and how long it has not been held.

A target is turned into a goal (a signed size) when it changes; on every bar after, the engine compares the
goal with the position plus the orders still working toward it and orders the difference, so an order that
the risk manager refused, the exchange rejected, the network lost or an IOC that expired unfilled is tried
again while the strategy keeps the target. The goal is fixed when the target changes, not recomputed each
bar: equity drifts with every tick, and chasing it would trade crumbs. A buy cut to the cash there is sets
the goal to what can be paid for. After an attempt that placed nothing, the next waits 1, 2, 4, 8 then
every 16 bars; but one the trading state refused (reduce-only, halted: the same order would be refused
again as long as the state holds) waits for the state to change instead, tried on the first bar after.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from gpttrader.risk import TradingState
from gpttrader.risk.checks import is_reducing

RETRY_BARS = (1, 2, 4, 8, 16)


@dataclass
class Pursuit:
    target: float
    goal: Decimal | None  # None until it can be worked out (an order of its product was of unknown fate)
    failures: int = 0  # attempts in a row that placed nothing
    retry_at: datetime | None = None  # the first bar an attempt may be made again
    unmet_since: datetime | None = None  # the first bar after which the position was not the goal
    held_by: str | None = None  # the trading state that refused the last attempt

    @property
    def waiting(self) -> bool:
        """Whether an attempt failed and the next must wait (for its bar, or for the state to change)."""
        return self.held_by is not None or self.retry_at is not None

    def may_try(self, bar_time: datetime, state: str) -> bool:
        if self.held_by is not None:
            if state == self.held_by:
                return False
            self.held_by, self.failures, self.retry_at = None, 0, None  # the state moved: try at once
            return True
        return self.retry_at is None or bar_time >= self.retry_at

    def tried(self, bar_time: datetime, placed: bool, bar: timedelta, held_by: str | None = None) -> None:
        """After an attempt: `held_by` is the trading state that refused it, if that was why."""
        if placed:
            self.failures, self.retry_at = 0, None
            return
        if held_by is not None:
            self.held_by, self.retry_at = held_by, None
            return
        self.failures += 1
        self.retry_at = bar_time + bar * RETRY_BARS[min(self.failures, len(RETRY_BARS)) - 1]

    def settle(self) -> None:
        """Nothing is left to pursue (the goal is held, or what is left cannot be ordered): no wait stands."""
        self.failures, self.retry_at, self.held_by = 0, None, None

    def observe(self, bar_time: datetime, met: bool) -> None:
        if met:
            self.unmet_since = None
        elif self.unmet_since is None:
            self.unmet_since = bar_time

    def unmet_bars(self, bar_time: datetime, bar: timedelta) -> int:
        """Bars, this one included, after which the position was not the goal."""
        if self.unmet_since is None:
            return 0
        return int((bar_time - self.unmet_since) / bar) + 1


def held_by_state(state: TradingState, held: Decimal, change: Decimal) -> str | None:
    """The trading state that refuses an order changing a position `held` by `change`, if it does."""
    if state is TradingState.HALTED or (state is TradingState.REDUCE_ONLY and not is_reducing(held, change)):
        return state.value
    return None
