"""The reads that keep the bot's picture of the account current between decisions: marks, cash and the
account's fee rates, each from the broker, and the taker rate that sizing budgets a buy's fee at."""

import logging
from datetime import datetime
from decimal import Decimal

from gpttrader.brokers.errors import BrokerError
from gpttrader.brokers.protocol import Broker
from gpttrader.config import BotConfig
from gpttrader.engine.execution_coordinator import ExecutionCoordinator
from gpttrader.engine.fee_tier import HIGHEST_TAKER, FeeTier
from gpttrader.engine.guard_feed import GuardFeed
from gpttrader.engine.marks import MarkBook

log = logging.getLogger(__name__)


class AccountRefresh:
    def __init__(
        self, broker: Broker, marks: MarkBook, fee_tier: FeeTier, guard_feed: GuardFeed, *, fee_rate: Decimal
    ) -> None:
        self._broker, self._marks, self._fee_tier, self._guard_feed = broker, marks, fee_tier, guard_feed
        self.fee_rate = fee_rate  # the profile's until the account's tier is read

    def marks(self, config: BotConfig, now: datetime, *, force: bool = False) -> None:
        """A REST quote for every product whose mark the feed has not refreshed within half an interval."""
        for pid in config.symbols:
            if force or self._marks.age(pid, now) > config.interval_seconds / 2:
                quote = self._broker.quote(pid)
                self._marks.update(pid, quote.mid, quote.time)

    def cash(self, execution: ExecutionCoordinator, *, derivatives: bool) -> None:
        """The bot's cash: the account's money in the currencies its products are quoted in, derivatives
        collateral included (where their realized PnL and funding settle), for its equity; and what each
        currency has available (total less the exchange's holds), which is what a buy may spend."""
        quote_currencies = {p.quote_currency for p in execution.products.values()}
        pools = self._broker.cash(derivatives=derivatives)
        execution.portfolio.cash = sum((pools.get(c, Decimal(0)) for c in quote_currencies), Decimal(0))
        execution.available = execution.executor.venue_available()

    def fees(self, execution: ExecutionCoordinator, now: datetime) -> None:
        """The account's fee rates at start and hourly on the bot's clock (engine.fee_tier): sizing budgets a
        buy's fee at the taker rate. A read that fails counts as an API error and is tried again next cycle;
        meanwhile the last rates hold, or before any, the highest tier's (never a rate that flatters a trade:
        the bot keeps working, exits included)."""
        try:
            changed = self._fee_tier.refresh(now)
        except BrokerError as exc:
            self._guard_feed.api_error(exc, now)
            if self._fee_tier.rates is None:
                self.fee_rate = execution.fee_rate = max(self.fee_rate, HIGHEST_TAKER)
            log.warning(
                "fee tier not read at %s; sizing at a taker rate of %s: %s", now.isoformat(), self.fee_rate, exc
            )
            return
        if changed is not None:
            self.fee_rate = execution.fee_rate = changed.taker
