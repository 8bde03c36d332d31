"""What the guards watch, read once a cycle and handed to the risk manager: equity and losses, the loss streak,
each product's mark age, volatility, spread and depth, the concentration of the positions, the margin's
liquidation buffer, and the exchange's record (the error rate of the cycles, API errors in their window,
the endpoints that answered malformed), which the alerts and the banner read too.

A guard that nothing in this mode can feed is switched off for the run, recorded, rather than shown as
watching (a liquidation buffer with no derivatives traded).
"""

import logging
import math
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np

from gpttrader.brokers.errors import BrokerError, MalformedAnswerError
from gpttrader.brokers.protocol import Broker
from gpttrader.config import BotConfig
from gpttrader.engine.correlation import MarkReturns
from gpttrader.engine.execution_coordinator import BOOK_LEVELS, ExecutionCoordinator
from gpttrader.engine.marks import MarkBook
from gpttrader.engine.strategy_coordinator import StrategyCoordinator
from gpttrader.risk import LiveRiskManager
from gpttrader.risk.guards import guard_metric
from gpttrader.risk.metrics import (
    DEPTH_BAND_BPS,
    NS,
    EquityTracker,
    ErrorCount,
    ErrorRate,
    LossStreak,
    liquidation_buffer_share,
)

log = logging.getLogger(__name__)


class GuardFeed:
    def __init__(self, config: BotConfig, risk: LiveRiskManager, broker: Broker, marks: MarkBook) -> None:
        self.config, self.risk, self.broker, self.marks = config, risk, broker, marks
        self.daily_loss = 0.0  # the daily-loss guard's last reading: the alerts compare it with its limit
        self._daily_metric = guard_metric("daily_loss", config.guards.daily_loss)  # in its limit's unit
        self.recent_api_errors = 0  # API errors in the window: the banner shows the exchange degraded
        self._error_rate = ErrorRate(config.risk.error_rate_window)
        self._api_errors = ErrorCount(config.risk.api_error_window_seconds)
        self._malformed: dict[str, datetime] = {}  # endpoint -> when it last answered malformed
        self._streak = LossStreak()
        self._returns = MarkReturns(list(config.symbols), config.risk.correlation_window)
        self._equity: EquityTracker | None = None

    def deactivate_unfed(self, *, derivatives: bool) -> None:
        """Every enabled guard is fed each cycle (`observe`) but one that cannot apply to what the bot trades."""
        if not derivatives:
            self.risk.deactivate("liquidation_buffer", "no derivatives traded: there is no margin to watch")

    def start(self, equity: Decimal) -> None:
        """From the bot's start: its equity is where drawdown and losses are measured from."""
        self._equity = EquityTracker(float(equity))

    # -- the exchange's record -----------------------------------------------------------------------------
    def cycle_done(self, now: datetime, *, ok: bool) -> None:
        self.risk.observe("error_rate", self._error_rate.record(ok), now)

    def api_error(self, exc: BrokerError, now: datetime) -> None:
        """An exchange call that failed counts toward the API-error guard; a malformed answer is also kept by
        endpoint for the alert and the banner."""
        if isinstance(exc, MalformedAnswerError):
            self._malformed[exc.endpoint or "Coinbase"] = now
        self.recent_api_errors = self._api_errors.record(now, error=True)
        self.risk.observe("api_errors", self.recent_api_errors, now)

    def malformed_endpoints(self, now: datetime) -> list[str]:
        """Endpoints that answered malformed within the API-error window."""
        window = timedelta(seconds=self.config.risk.api_error_window_seconds)
        return sorted(e for e, at in self._malformed.items() if now - at <= window)

    # -- one cycle's readings --------------------------------------------------------------------------------
    def observe(
        self, now: datetime, execution: ExecutionCoordinator, strategy: StrategyCoordinator, derivatives: bool
    ) -> None:
        assert self._equity is not None, "start() first"
        equity = float(execution.equity())
        stamp = np.array([int(now.timestamp() * NS)], dtype=np.int64)
        for metric, values in self._equity.update(stamp, np.array([equity])).items():
            self.risk.observe(metric, float(values[0]), now)
            if metric == self._daily_metric:
                self.daily_loss = float(values[0])
        for pid in self.config.symbols:
            age = self.marks.age(pid, now)
            self.risk.observe("mark_age_seconds", age if math.isfinite(age) else 1e9, now, pid)
            self.risk.observe("volatility", strategy.volatility(pid), now, pid)
        trips = execution.closed_trips
        for count in self._streak.update(float(t) for t in trips):
            self.risk.observe("consecutive_losses", count, now)
        trips.clear()
        self.risk.observe("consecutive_losses", self._streak.count, now)  # the streak as it stands, every cycle
        self.recent_api_errors = self._api_errors.record(now, error=False)
        self.risk.observe("api_errors", self.recent_api_errors, now)
        if derivatives:
            summary = self.broker.margin_summary()
            if summary is not None:
                buffer = liquidation_buffer_share(summary.liquidation_buffer, summary.total_balance)
                self.risk.observe("liquidation_buffer", buffer, now)
        self._observe_concentration(now, execution)
        self._observe_books(now)

    def _observe_concentration(self, now: datetime, execution: ExecutionCoordinator) -> None:
        self._returns.sample(self.marks.prices())
        positions = execution.positions()
        notional = {pid: p.size * p.mark_price * p.multiplier for pid, p in positions.items()}
        self.risk.observe("concentration", self._returns.concentration(notional, execution.equity()), now)

    def _observe_books(self, now: datetime) -> None:
        """The spread and depth guards read each product's book (REST: the same levels the impact check
        walks), only while one of them is enabled."""
        if not {"spread_bps", "depth"} & self.risk.metrics():
            return
        for pid in self.config.symbols:
            try:
                book = self.broker.order_book(pid, BOOK_LEVELS)
            except BrokerError as exc:  # one product's book: an API error, never the others' guards or the cycle
                self.api_error(exc, now)
                log.warning("the book of %s could not be read for the spread and depth guards: %s", pid, exc)
                continue
            self.risk.observe("spread_bps", book.spread_bps, now, pid)
            self.risk.observe("depth", book.depth(DEPTH_BAND_BPS), now, pid)
