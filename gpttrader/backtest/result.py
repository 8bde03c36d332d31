"""What a backtest returns: trades, the equity curve, orders and fills, and the metrics."""

from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal

import pandas as pd

from gpttrader.domain import Fill, OrderRequest


@dataclass(frozen=True, slots=True)
class Trade:
    """A round trip: from flat to a position and back to flat (or through it, on a flip)."""

    product_id: str
    side: str
    entry_time: datetime
    exit_time: datetime | None
    size: Decimal
    entry_price: Decimal
    exit_price: Decimal | None
    fees: Decimal
    pnl: Decimal


@dataclass
class BacktestResult:
    equity: pd.Series
    exposure: pd.Series
    trades: list[Trade]
    orders: list[OrderRequest]
    fills: list[Fill]
    initial_cash: Decimal
    final_cash: Decimal
    fees_paid: Decimal
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def final_equity(self) -> float:
        return float(self.equity.iloc[-1])

    def trades_frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(t) for t in self.trades])
