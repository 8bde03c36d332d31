"""Errors raised by the domain model; they carry a machine-readable reason code next to the message."""


class DomainError(ValueError):
    """A value that cannot exist in the domain (a negative price, a limit order without a price)."""


class OrderRejected(DomainError):
    """An order the process refuses to send; `reason` is a stable code that the risk layer and stores record."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
