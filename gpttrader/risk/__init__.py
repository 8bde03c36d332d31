"""Risk: position sizing, pre-trade checks, runtime guards and the trading state, behind `LiveRiskManager`."""

from gpttrader.risk.checks import CheckResult, PreTradeDecision, TradeContext
from gpttrader.risk.errors import RiskGuardCriticalError, RiskGuardError, RiskGuardRecoverableError
from gpttrader.risk.guards import Guard, GuardLevel, GuardReading, build_guards
from gpttrader.risk.journal import MemoryJournal, RiskEvent, RiskJournal
from gpttrader.risk.limits import TradeLimits
from gpttrader.risk.manager import GuardTransition, LiveRiskManager
from gpttrader.risk.sizing import (
    FixedFractionSizer,
    FixedNotionalSizer,
    KellySizer,
    MarketRegime,
    PositionSizer,
    PositionSizeRecommendation,
    PositionSizeRequest,
    SizingGuardrails,
)
from gpttrader.risk.state import TradingState

__all__ = [
    "CheckResult",
    "FixedFractionSizer",
    "FixedNotionalSizer",
    "Guard",
    "GuardLevel",
    "GuardReading",
    "GuardTransition",
    "KellySizer",
    "LiveRiskManager",
    "MarketRegime",
    "MemoryJournal",
    "PositionSizeRecommendation",
    "PositionSizeRequest",
    "PositionSizer",
    "PreTradeDecision",
    "RiskEvent",
    "RiskGuardCriticalError",
    "RiskGuardError",
    "RiskGuardRecoverableError",
    "RiskJournal",
    "SizingGuardrails",
    "TradeContext",
    "TradeLimits",
    "TradingState",
    "build_guards",
]
