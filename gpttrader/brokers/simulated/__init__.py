"""One simulated fill model (fees, synthetic depth) shared by the backtest, the paper broker and the sandbox."""

from gpttrader.brokers.simulated.depth import BookLevel, synthetic_book
from gpttrader.brokers.simulated.fees import FeeSchedule

__all__ = ["BookLevel", "FeeSchedule", "synthetic_book"]
