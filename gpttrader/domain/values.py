"""Checks shared by the value types: money must be Decimal and times must be timezone-aware UTC.

Floats are refused outright rather than converted, because a float that slipped in has already lost
precision and converting it would hide the bug that produced it.
"""

from datetime import UTC, datetime
from decimal import Decimal

from gpttrader.domain.errors import DomainError

# The most a fee can be as a fraction of the notional per side: Coinbase's highest tier charges 1.2% taker,
# so a rate above 10% is no fee tier but a typo or a garbled answer, wherever one comes from.
MAX_FEE_RATE = Decimal("0.1")


def require_decimal(name: str, value: object, *, positive: bool = False, non_negative: bool = False) -> Decimal:
    if not isinstance(value, Decimal):
        raise DomainError(f"{name} must be a Decimal, got {type(value).__name__} {value!r}")
    if not value.is_finite():
        raise DomainError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise DomainError(f"{name} must be > 0, got {value}")
    if non_negative and value < 0:
        raise DomainError(f"{name} must be >= 0, got {value}")
    return value


def require_utc(name: str, value: object) -> datetime:
    if not isinstance(value, datetime):
        raise DomainError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise DomainError(f"{name} must be timezone-aware (UTC), got naive {value.isoformat()}")
    return value.astimezone(UTC)
