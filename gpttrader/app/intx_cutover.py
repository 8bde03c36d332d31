"""INTX perpetuals left Advanced Trade: Coinbase moved their order entry to a separate, Deribit-powered
gateway (JSON-RPC), leaving INTX on Advanced Trade read-only, and the official SDK has no client for it.

So from `coinbase.intx_cutover` a live profile that names an INTX perpetual does not start: its orders
would be refused at Coinbase. The rule is about Coinbase production only: a sandbox (COINBASE_SANDBOX_URL)
is not Coinbase, serves INTX order entry as Advanced Trade did, and stays where the gated perpetual path
(COINBASE_ENABLE_DERIVATIVES=1) is tested. `gpttrader kill` is never refused: a position left from before
the cutover must stay closable however Coinbase answers.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from gpttrader.config import BotConfig
from gpttrader.domain.symbols import is_perpetual_id


def today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True, slots=True)
class MovedPerpetuals:
    """A live profile's INTX perpetuals after the cutover: what to tell the operator, and what to do."""

    symbols: tuple[str, ...]
    cutover: date
    profile: str

    @property
    def detail(self) -> str:
        return (
            f"INTX order entry moved off Advanced Trade after {self.cutover} (coinbase.intx_cutover): "
            f"{', '.join(self.symbols)} cannot be ordered through Advanced Trade, and gpttrader has no client for "
            "Coinbase's new INTX gateway"
        )

    @property
    def fix(self) -> str:
        return (
            f"remove {', '.join(self.symbols)} from profile {self.profile}'s symbols; if this account still has "
            "INTX order entry on Advanced Trade, set coinbase.intx_cutover to the day it moves"
        )


def moved_perpetuals(config: BotConfig, on: date) -> MovedPerpetuals | None:
    """The INTX perpetuals the profile would order on Coinbase production on `on`, after the cutover."""
    perpetuals = tuple(s for s in config.symbols if is_perpetual_id(s))
    production = config.is_live and config.coinbase.sandbox_url is None
    if not perpetuals or not production or on < config.coinbase.intx_cutover:
        return None
    return MovedPerpetuals(perpetuals, config.coinbase.intx_cutover, config.profile)
