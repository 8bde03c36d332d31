"""One simulated fill model (fees, slippage, partial fills, funding, synthetic depth) shared by the
backtest, the paper broker and the sandbox."""

from gpttrader.brokers.simulated.depth import synthetic_book
from gpttrader.brokers.simulated.fees import FeeSchedule
from gpttrader.brokers.simulated.fills import Execution, FillModel, FillOutcome

__all__ = ["Execution", "FeeSchedule", "FillModel", "FillOutcome", "synthetic_book"]
