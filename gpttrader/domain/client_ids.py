"""Every client order id the bot sends, built in one place.

Coinbase de-duplicates orders by client order id across the whole account and lists every order of the
account, so two bots on one account must never build the same id (the second would be handed the first's
order) and each must recognise its own orders among the others (reconciliation cancels only its own). So
every id starts with the bot's prefix (`execution.client_id_prefix`, by default the profile name), which
holds no hyphen, so that no prefix is the start of another's. Coinbase refuses ids over 128 characters:
each id is checked here, before anything is written or sent, and a configuration whose ids could grow past
it is refused when it is loaded (`longest_decision_id`).
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime

MAX_LENGTH = 128
PREFIX = re.compile(r"^[A-Za-z0-9_]{1,32}$")
_MOST_ORDERS = 999  # per bar and product (a decision's orders), per entry (its exits), per kill episode
_STAMP = "%Y%m%dT%H%M%S"
_DECIDED = re.compile(r"\d{8}T\d{6}-")  # a decision's bar stamp, right after the product
_EXIT = re.compile(r"-x\d+$")


class ClientIdError(ValueError):
    """An id that Coinbase would refuse (too long) or a prefix that could collide with another bot's."""


@dataclass(frozen=True, slots=True)
class ClientIds:
    prefix: str

    def __post_init__(self) -> None:
        if not PREFIX.match(self.prefix):
            raise ClientIdError(
                f"client order id prefix {self.prefix!r} must be 1 to 32 letters, digits or underscores "
                "(a hyphen would let one bot's prefix start another's)"
            )

    def decision(self, product_id: str, bar_time: datetime, strategy: str, n: int) -> str:
        """The n-th order a strategy decided on a bar: the same after a restart, so it is sent once."""
        return self._checked(f"{self.prefix}-{product_id}-{bar_time:{_STAMP}}-{strategy}-{n}")

    def exit(self, entry_id: str, n: int) -> str:
        """The n-th exit placed for an entry (one per part of it filled, or a replacement)."""
        return self._checked(f"{self.exit_stem(entry_id)}{n}")

    @staticmethod
    def exit_stem(entry_id: str) -> str:
        """What every exit of an entry starts with (to find them)."""
        return f"{entry_id}-x"

    def kill(self, product_id: str, episode: str, n: int) -> str:
        """The n-th flatten of a product in one kill episode: a retried kill names it the same."""
        return self._checked(f"{self.kill_stem(product_id, episode)}{n}")

    def kill_stem(self, product_id: str, episode: str) -> str:
        """What every flatten of a product in one kill episode starts with (to count them, to know them)."""
        return f"{self.prefix}-{product_id}-{episode}-"

    def manual(self, token: str) -> str:
        """An order an operator placed from the command line."""
        return self._checked(f"{self.prefix}-cli-{token}")

    def is_decision(self, client_order_id: str, product_id: str) -> bool:
        """Whether an id is one of this bot's decided orders of a product (not an exit, a kill's flatten or an
        operator's order): what a new decision replaces."""
        stem = f"{self.prefix}-{product_id}-"
        return (
            client_order_id.startswith(stem)
            and _DECIDED.match(client_order_id, len(stem)) is not None
            and _EXIT.search(client_order_id) is None
        )

    def bar_time(self, client_order_id: str, product_id: str) -> datetime | None:
        """The bar a decided order (or its exit) of a product was decided on; None for another kind of id."""
        stem = f"{self.prefix}-{product_id}-"
        found = _DECIDED.match(client_order_id, len(stem)) if client_order_id.startswith(stem) else None
        if found is None:
            return None
        return datetime.strptime(found.group()[:-1], _STAMP).replace(tzinfo=UTC)

    def owns(self, client_order_id: str) -> bool:
        """Whether an order at the exchange is this bot's (its id starts with the prefix)."""
        return client_order_id.startswith(f"{self.prefix}-")

    @staticmethod
    def _checked(client_order_id: str) -> str:
        if len(client_order_id) > MAX_LENGTH:
            raise ClientIdError(
                f"client order id {client_order_id!r} has {len(client_order_id)} characters; Coinbase takes at "
                f"most {MAX_LENGTH}"
            )
        return client_order_id


def longest_decision_id(prefix: str, product_ids: tuple[str, ...], strategy: str) -> int:
    """The length of the longest id this bot can build: an exit of the last order of a bar."""
    widest = max(product_ids, key=len)
    entry = f"{prefix}-{widest}-{datetime(2000, 1, 1):{_STAMP}}-{strategy}-{_MOST_ORDERS}"
    return len(f"{entry}-x{_MOST_ORDERS}")
