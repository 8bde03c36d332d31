"""What can go wrong talking to a venue, as a small hierarchy the engine can act on.

The split follows what the caller should do: retry later (RateLimited, ExchangeUnavailable), fix the
order (InvalidOrder, InsufficientFunds), fix the set-up (Authentication, PermissionDenied), look
elsewhere (NotFound), or trust nothing in the answer (MalformedAnswer).
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


class MalformedAnswerError(BrokerError):
    """An answer that is not what the endpoint promises: not JSON, or a required field missing or of the
    wrong type. Nothing is read from it (no zero balance, no local rejection); for a write, the request may
    have been processed, so its fate is unknown."""

    def __init__(self, detail: str, endpoint: str = "") -> None:
        self.detail, self.endpoint = detail, endpoint
        super().__init__(f"malformed answer from {endpoint or 'Coinbase'}: {detail}", "MALFORMED_ANSWER")

    def at(self, endpoint: str) -> "MalformedAnswerError":
        """The same error, naming the endpoint when the parser that raised it did not know it."""
        return self if self.endpoint else type(self)(self.detail, endpoint)


class UnsupportedOrderError(MalformedAnswerError):
    """An order read whole but of a kind this toolkit never places (a TWAP, a market order sized in quote
    currency placed in the Coinbase app, a status Coinbase added since): not the bot's, so a listing skips
    it, reported, rather than failing on it."""


class InvalidOrderError(BrokerError):
    """The venue (or our own pre-send checks) refused the order; `reason` says why."""


class InsufficientFundsError(InvalidOrderError):
    pass
