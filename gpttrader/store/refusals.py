"""Refusals of a profile's state: conditions in which a bot must not start until an operator acts.

They are errors of their own (the CLI exits 2 and prints the message) because each message names what is
wrong and the fix; a traceback would bury both.
"""

from gpttrader.store.errors import StoreError


class StateRefusedError(StoreError):
    """The profile's state forbids this start; the message says why and what the operator can do."""


class DamagedStoreError(StateRefusedError):
    """A store that is missing, empty or fails SQLite's integrity check: trading on it would trade blind."""


class UnadoptedAccountError(StateRefusedError):
    """A new store meets an account holding open orders or positions it does not know."""
