"""The account's fee rates as the bot knows them: read from the broker (Coinbase: the transaction summary's
fee tier; a simulated venue: its schedule, the profile's `paper` rates) at the bot's start (before its edge
seed prices trips with them) and then hourly on the bot's clock, since a tier moves with the account's
30-day volume. The taker rate is what
sizing budgets a buy's fee at; each change is recorded as `account.fee_tier`, which the reports read."""

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from gpttrader.brokers.protocol import FeeRates
from gpttrader.domain.events import EventType
from gpttrader.store import EventStore

FEE_TIER_EVERY = timedelta(hours=1)
# Coinbase's entry tier, the most any account pays: what sizing budgets a taker fee at while the account's
# own tier is unknown (its read failed), so that nothing is sized on a guess that flatters it.
HIGHEST_TAKER = Decimal("0.012")


class FeeTier:
    def __init__(
        self,
        read: Callable[[], FeeRates],
        events: EventStore,
        *,
        run_id: str | None = None,
        every: timedelta = FEE_TIER_EVERY,
    ) -> None:
        self._read, self._events, self._run_id, self.every = read, events, run_id, every
        self.rates: FeeRates | None = None
        self.read_at: datetime | None = None

    def due(self, now: datetime) -> bool:
        return self.read_at is None or now - self.read_at >= self.every

    def refresh(self, now: datetime) -> FeeRates | None:
        """Read the rates when due; the new rates when they differ from the last (None otherwise). A failed
        read raises the broker's error and leaves the rates as they were, due again at the next call."""
        if not self.due(now):
            return None
        rates = self._read()
        self.read_at = now
        if rates == self.rates:
            return None
        previous, self.rates = self.rates, rates
        self._events.append(
            EventType.ACCOUNT_FEE_TIER,
            {**rates.as_dict(), "previous": None if previous is None else previous.as_dict()},
            run_id=self._run_id,
            time=now,
        )
        return rates
