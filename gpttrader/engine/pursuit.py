"""Target pursuit: what a product's target means as a position, and how long it has not been held.

A target is turned into a goal (a signed size) when it changes; on every bar after, the engine compares the
goal with the position plus the orders still working toward it and orders the difference, so an order that
the risk manager refused, the exchange rejected, the network lost or an IOC that expired unfilled is tried
again while the strategy keeps the target. The goal is fixed when the target changes, not recomputed each
bar: equity drifts with every tick, and chasing it would trade crumbs. A buy cut to the cash there is sets
the goal to what can be paid for. After an attempt that placed nothing, the next waits 1, 2, 4, 8 then
every 16 bars.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

RETRY_BARS = (1, 2, 4, 8, 16)


@dataclass
class Pursuit:
    target: float
    goal: Decimal | None  # None until it can be worked out (an order of its product was of unknown fate)
    failures: int = 0  # attempts in a row that placed nothing
    retry_at: datetime | None = None  # the first bar an attempt may be made again
    unmet_since: datetime | None = None  # the first bar after which the position was not the goal

    def may_try(self, bar_time: datetime) -> bool:
        return self.retry_at is None or bar_time >= self.retry_at

    def tried(self, bar_time: datetime, placed: bool, bar: timedelta) -> None:
        if placed:
            self.failures, self.retry_at = 0, None
            return
        self.failures += 1
        self.retry_at = bar_time + bar * RETRY_BARS[min(self.failures, len(RETRY_BARS)) - 1]

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
