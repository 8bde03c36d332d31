"""What can go wrong talking to a venue, as a small hierarchy the engine can act on.

The split follows what the caller should do: retry later (RateLimited, ExchangeUnavailable), fix the
order (InvalidOrder, InsufficientFunds), fix the set-up (Authentication, PermissionDenied), or look
elsewhere (NotFound).
"""

from datetime import datetime


class BrokerError(Exception):
    """Base of every broker failure; `reason` is the venue's code where it gave one."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


class AuthenticationError(BrokerError):
    pass


class PermissionDeniedError(BrokerError):
    pass


class NotFoundError(BrokerError):
    pass


class RateLimitedError(BrokerError):
    def __init__(self, message: str, reset_at: datetime | None = None) -> None:
        super().__init__(message, "RATE_LIMITED")
        self.reset_at = reset_at


class ExchangeUnavailableError(BrokerError):
    """5xx, timeouts and dropped connections: the request may or may not have been processed."""


class InvalidOrderError(BrokerError):
    """The venue (or our own pre-send checks) refused the order; `reason` says why."""


class InsufficientFundsError(InvalidOrderError):
    pass
