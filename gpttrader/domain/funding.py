"""Perpetual funding as every simulated venue charges it: the backtest, the paper and dev venue, and the
sandbox exchange. A position held into the start of an hour pays (a long, at a positive rate) or receives
(a short) the hourly rate on its notional at the close of that hour's first minute. One rule, so that a
backtest's funding is the paper session's and the sandbox's to the cent.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

FUNDING_INTERVAL = timedelta(hours=1)
FUNDING_RATE_PER_HOUR = Decimal("0.0001")  # of the notional: the simulated venues' rate unless set otherwise


def opens_funding_interval(bar_time: datetime) -> bool:
    """Whether the bar starting at `bar_time` is the first of a funding interval (it starts on the hour)."""
    return bar_time.timestamp() % FUNDING_INTERVAL.total_seconds() == 0


def funding_times(after: datetime, through: datetime) -> list[datetime]:
    """The starts of the funding intervals in (`after`, `through`]."""
    step = int(FUNDING_INTERVAL.total_seconds())
    first = (int(after.timestamp()) // step + 1) * step
    last = int(through.timestamp())
    return [datetime.fromtimestamp(t, UTC) for t in range(first, last + 1, step)]


def funding_payment(size: Decimal, mark: Decimal, multiplier: Decimal, rate: Decimal) -> Decimal:
    """One interval's payment for a position of signed `size`: positive when the holder pays (a long with a
    positive rate), negative when it receives."""
    return size * mark * multiplier * rate
