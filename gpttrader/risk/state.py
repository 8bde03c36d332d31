"""The bot's trading state. It only moves toward safety by itself; moving back takes an operator."""

from enum import StrEnum


class TradingState(StrEnum):
    ACTIVE = "active"
    REDUCE_ONLY = "reduce_only"
    HALTED = "halted"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def is_safer_than(self, other: "TradingState") -> bool:
        return self.rank > other.rank


_RANK = {TradingState.ACTIVE: 0, TradingState.REDUCE_ONLY: 1, TradingState.HALTED: 2}
ACTION_STATES: dict[str, TradingState] = {"reduce_only": TradingState.REDUCE_ONLY, "halt": TradingState.HALTED}
