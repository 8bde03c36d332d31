"""How far the bot's clock runs ahead of the exchange's, so that a bar is judged closed by the exchange's
time, not the bot's: preflight tolerates a few seconds of skew, enough to take a forming bar for a closed one.

The exchange's time is taken at the end of the round trip (the bound that never runs the exchange's clock
fast), and read again every `every` so that a drifting clock is followed; a failed read keeps the last
measurement, since a clock does not jump between two reads and the cycle must not stop for it.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from gpttrader.brokers.errors import BrokerError

log = logging.getLogger(__name__)
EVERY = timedelta(minutes=10)
RETRY = timedelta(minutes=1)  # after a failed read: soon, but not on every call while the exchange is down


class ClockSkew:
    def __init__(
        self, server_time: Callable[[], datetime], now: Callable[[], datetime], *, every: timedelta = EVERY
    ) -> None:
        """`server_time`: the exchange's clock (one request); `now`: the bot's clock."""
        self._server_time = server_time
        self._now = now
        self._every = every
        self.ahead = timedelta(0)  # the bot's clock minus the exchange's; negative when the bot is behind
        self._due: datetime | None = None

    def measure(self) -> timedelta:
        """Read the exchange's clock now; on failure keep the last measurement and try again in a minute."""
        sent = self._now()
        try:
            server = self._server_time()
        except BrokerError as exc:
            log.warning("the exchange's time could not be read (%s); clock skew stays %s", exc, self.ahead)
            self._due = sent + RETRY
            return self.ahead
        received = self._now()
        # The exchange stamped its time somewhere between `sent` and `received` (a rate limiter's or a retry's
        # wait included): the most the bot can be ahead is received - server. Taking that bound means the
        # exchange's time is never overestimated, so a bar still forming is never taken for closed; a slow
        # read only delays a bar by its own length.
        self.ahead = received - server
        self._due = received + self._every
        return self.ahead

    def exchange_time(self, now: datetime) -> datetime:
        """The exchange's time when the bot's clock shows `now`, measuring first when a measurement is due."""
        if self._due is None or now >= self._due:
            self.measure()
        return now - self.ahead
