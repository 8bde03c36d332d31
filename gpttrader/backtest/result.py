"""What a backtest returns: trades, the equity curve, orders and fills, and the metrics."""

from collections import Counter
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from gpttrader.domain import Fill, OrderRequest
from gpttrader.domain.events import EventType
from gpttrader.domain.round_trips import RoundTrip
from gpttrader.risk import RiskEvent, TradingState
from gpttrader.risk.edge import ClosedTrip
from gpttrader.risk.regime import REGIMES
from gpttrader.strategy.base import OrderStrategy, Strategy

GUARD_EVENT_TYPES = (EventType.RISK_GUARD_WARNING, EventType.RISK_GUARD_BREACHED, EventType.RISK_STATE_CHANGED)


@dataclass(frozen=True)
class RunSettings:
    """What a run was asked, for a report's header and its indicator overlays: the strategy object and the
    costs. The period, products, timeframe and starting cash are read from the candles and the result."""

    strategy: Strategy | OrderStrategy
    maker_fee: Decimal
    taker_fee: Decimal
    slippage_bps: Decimal

    @property
    def parameters(self) -> dict[str, Any]:
        """The strategy's parameters: a dataclass's fields (the built-ins'), else its public attributes."""
        if is_dataclass(self.strategy):
            values = {f.name: getattr(self.strategy, f.name) for f in fields(self.strategy)}
        else:
            values = {k: v for k, v in vars(self.strategy).items() if not k.startswith("_")}
        return {k: v for k, v in values.items() if k != "name"}


# Money and sizes leave the engine as floats: a researcher's frame is for describe(), plots and arithmetic.
_DECIMAL_COLUMNS = ("size", "entry_price", "exit_price", "fees", "pnl", "notional", "fraction")

# A round trip: from flat to a position and back to flat (or through it, on a flip). The engine's own record,
# so that the trades a backtest reports are the trips the bot books live, by the same code and fee rule.


@dataclass
class BacktestResult:
    equity: pd.Series
    exposure: pd.Series
    trades: list[RoundTrip]
    orders: list[OrderRequest]
    fills: list[Fill]
    initial_cash: Decimal
    final_cash: Decimal
    fees_paid: Decimal
    risk_events: list[RiskEvent] = field(default_factory=list)
    risk_state: TradingState | None = None  # at the end; None when run without a risk manager
    risk_counters: Counter[str] = field(default_factory=Counter)
    metrics: dict[str, float] = field(default_factory=dict)
    # Each closed round trip (time, product, PnL after fees over its entry notional): the strategy's record.
    trip_returns: list[ClosedTrip] = field(default_factory=list)
    settings: RunSettings | None = None  # what the run was asked (run_backtest sets it), for a report's header

    @property
    def final_equity(self) -> float:
        return float(self.equity.iloc[-1])

    def trades_frame(self) -> pd.DataFrame:
        """One row per round trip, money as floats (an open trip's missing exit as NaN/NaT) and the time held."""
        columns = [f.name for f in RoundTrip.__dataclass_fields__.values()]
        frame = pd.DataFrame([asdict(t) for t in self.trades], columns=columns)
        for name in _DECIMAL_COLUMNS:
            frame[name] = frame[name].map(lambda v: float("nan") if v is None else float(v)).astype(float)
        for name in ("entry_time", "exit_time"):
            frame[name] = pd.to_datetime(frame[name], utc=True).astype("datetime64[ns, UTC]")
        frame["duration"] = frame["exit_time"] - frame["entry_time"]
        return frame

    def risk_frame(self, types: tuple[EventType, ...] | None = None) -> pd.DataFrame:
        """The risk manager's events (all, or of `types`): time, type, then the payload's fields."""
        rows = [
            {"time": e.time, "type": e.type, **e.payload} for e in self.risk_events if types is None or e.type in types
        ]
        return pd.DataFrame(rows, columns=None if rows else ["time", "type"])

    def guard_events(self) -> pd.DataFrame:
        """Guard warnings, breaches and state changes, for reports."""
        return self.risk_frame(GUARD_EVENT_TYPES)

    def edge_frame(self) -> pd.DataFrame:
        """The edge estimates sizing used, as they changed with each closed trip (walking forward): time,
        strategy, product, trades, wins, then the shrunk win rate, average win and loss and Kelly fraction."""
        columns = ["time", "strategy", "product_id", "trades", "wins", "win_rate", "avg_win", "avg_loss", "kelly"]
        rows = [{"time": e.time, **e.payload} for e in self.risk_events if e.type is EventType.RISK_EDGE_ESTIMATE]
        frame = pd.DataFrame(rows, columns=columns)
        for name in ("win_rate", "avg_win", "avg_loss", "kelly"):
            frame[name] = pd.to_numeric(frame[name]).astype(float)
        return frame

    def regime_frame(self) -> pd.DataFrame:
        """The market regimes sizing used: each change, with the time and product (the regimes ordered from
        bull and quiet to bear and volatile)."""
        rows = [{"time": e.time, **e.payload} for e in self.risk_events if e.type is EventType.RISK_REGIME]
        frame = pd.DataFrame(rows, columns=["time", "product_id", "regime", "previous"])
        order = pd.CategoricalDtype([r.value for r in REGIMES], ordered=True)
        return frame.astype({"regime": order, "previous": order})
