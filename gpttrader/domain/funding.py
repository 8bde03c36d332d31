"""Perpetual funding as every simulated venue charges it: the backtest, the paper and dev venue, and the
sandbox exchange. A position held into the start of an hour pays (a long, at a positive rate) or receives
(a short) the hourly rate on its notional at the close of that hour's first minute. One rule, so that a
backtest's funding is the paper session's and the sandbox's to the cent.

Who pays and when it reaches the balance: INTX perpetuals settle each hour's payment as it is charged; a
CFM perpetual-style future (Coinbase's US perp-style futures since July 2025) accrues it hourly and
settles what accrued twice a day. Coinbase says only "twice a day at designated times" (no published
hours were found), so the simulated venues settle at 00:00 and 12:00 UTC, the accrual of those hours
included.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from gpttrader.domain.enums import ProductType
from gpttrader.domain.products import Product

FUNDING_INTERVAL = timedelta(hours=1)
FUNDING_RATE_PER_HOUR = Decimal("0.0001")  # of the notional: the simulated venues' rate unless set otherwise
SETTLEMENT_HOURS_UTC = (0, 12)  # when a perpetual-style future's accrued funding settles


def pays_funding(product: Product) -> bool:
    """Whether positions in `product` pay funding: INTX perpetuals and CFM perpetual-style futures."""
    return product.product_type is ProductType.PERPETUAL or product.perpetual_style


def settles_funding(product: Product, funding_time: datetime) -> bool:
    """Whether what `product` accrued settles into the balance at `funding_time` (the start of an hour):
    every hour for a perpetual, at SETTLEMENT_HOURS_UTC for a perpetual-style future."""
    return not product.perpetual_style or funding_time.astimezone(UTC).hour in SETTLEMENT_HOURS_UTC


def accrue_funding(
    accrued: Decimal, payment: Decimal, product: Product, funding_time: datetime
) -> tuple[Decimal, Decimal]:
    """Add one funding time's `payment` to what a position has `accrued` unsettled: (what stays accrued, what
    settles into the balance now). Every venue books funding through this, so they settle alike."""
    total = accrued + payment
    return (Decimal(0), total) if settles_funding(product, funding_time) else (total, Decimal(0))


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
