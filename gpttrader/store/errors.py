"""Errors of the durable stores."""


class StoreError(RuntimeError):
    """A store that cannot be opened or a write that would break its invariants."""


class DuplicateOrderError(StoreError):
    """A client order id that is already in the orders store: sending it again would duplicate an order."""


class InvalidTransitionError(StoreError):
    """A status change the order state machine does not allow (a filled order reopening, say)."""
