"""Risk: position sizing, pre-trade checks, runtime guards and the trading state, behind `LiveRiskManager`."""

from gpttrader.domain import MarketRegime  # sizing's vocabulary, part of this package's public API
from gpttrader.risk.checks import CheckResult, PreTradeDecision, TradeContext
from gpttrader.risk.edge import EdgeEstimate, EdgeRecord
from gpttrader.risk.errors import RiskGuardCriticalError, RiskGuardError, RiskGuardRecoverableError
from gpttrader.risk.guards import Guard, GuardLevel, GuardReading, build_guards
from gpttrader.risk.journal import MemoryJournal, RiskEvent, RiskJournal
from gpttrader.risk.limits import TradeLimits
from gpttrader.risk.manager import GuardTransition, LiveRiskManager
from gpttrader.risk.regime import RegimeDetector, RegimeSettings, classify_regimes
from gpttrader.risk.sizing import (
    FixedFractionSizer,
    FixedNotionalSizer,
    KellySizer,
    PositionSizer,
    PositionSizeRecommendation,
    PositionSizeRequest,
    SizingGuardrails,
    calculate_position_size,
)
from gpttrader.risk.state import TradingState

__all__ = [
    "CheckResult",
    "EdgeEstimate",
    "EdgeRecord",
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
    "RegimeDetector",
    "RegimeSettings",
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
    "calculate_position_size",
    "classify_regimes",
]
