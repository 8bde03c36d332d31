"""What a paper or live session did, read back from a profile's stores: equity and drawdown (the account
snapshots), fills and fees, slippage of each fill against the mark its decision was made at, round trips,
and the risk manager's events."""

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from gpttrader.domain import Side
from gpttrader.domain.events import EventType
from gpttrader.domain.round_trips import round_trips
from gpttrader.store import DATABASE_FILE, EventStore, OrdersStore
from gpttrader.store.integrity import known_stores, open_store

RISK_EVENTS = (
    EventType.RISK_GUARD_WARNING,
    EventType.RISK_GUARD_BREACHED,
    EventType.RISK_STATE_CHANGED,
    EventType.RISK_ORDER_REJECTED,
    EventType.RISK_KILL_SWITCH,
)


@dataclass
class SessionReport:
    equity: pd.Series
    fills: pd.DataFrame
    trades: pd.DataFrame
    risk_events: pd.DataFrame
    # Each fee tier the session priced with, as read (time, tier, maker, taker): the profile's rates on a
    # simulated venue, the account's on Coinbase.
    fee_tiers: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def empty(self) -> bool:
        return self.equity.empty and self.fills.empty

    def summary(self) -> pd.DataFrame:
        rows: dict[str, object] = {
            "fills": len(self.fills),
            "fees": float(self.fills["fee"].sum()) if not self.fills.empty else 0.0,
            "closed trades": int(self.trades["exit_time"].notna().sum()) if not self.trades.empty else 0,
            "mean slippage (bps)": round(float(self.fills["slippage_bps"].mean()), 3)
            if not self.fills.empty and self.fills["slippage_bps"].notna().any()
            else float("nan"),
            "risk events": len(self.risk_events),
        }
        if not self.fee_tiers.empty:
            last = self.fee_tiers.iloc[-1]
            rows["fee tier"] = f"{last['tier']} (maker {last['maker']}, taker {last['taker']})"
            rows["fee tier changes"] = len(self.fee_tiers) - 1
        if not self.equity.empty:
            rows["first equity"] = float(self.equity.iloc[0])
            rows["last equity"] = float(self.equity.iloc[-1])
            rows["max drawdown"] = float((self.equity / self.equity.cummax() - 1).min())
        return pd.DataFrame({"value": rows})

    def figure(self) -> go.Figure:
        figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.05)
        figure.add_trace(go.Scatter(x=self.equity.index, y=self.equity, name="equity"), row=1, col=1)
        drawdown = self.equity / self.equity.cummax() - 1
        figure.add_trace(go.Scatter(x=drawdown.index, y=drawdown, name="drawdown", fill="tozeroy"), row=2, col=1)
        breaches = (
            self.risk_events[self.risk_events["type"] == EventType.RISK_GUARD_BREACHED]
            if not self.risk_events.empty
            else self.risk_events
        )
        if not breaches.empty and not self.equity.empty:
            times = pd.DatetimeIndex(breaches["time"])
            figure.add_trace(
                go.Scatter(
                    x=times,
                    y=self.equity.reindex(times, method="ffill"),
                    mode="markers",
                    name="guard breached",
                    marker={"symbol": "x", "size": 11, "color": "red"},
                ),
                row=1,
                col=1,
            )
        figure.update_layout(title="Session equity and drawdown")
        figure.update_yaxes(tickformat=".1%", row=2, col=1)
        return figure


def session_report(state_dir: Path) -> SessionReport:
    """The report of the stores in `state_dir` (data/state/<profile>); empty when nothing ran there yet."""
    if DATABASE_FILE not in known_stores(state_dir):
        empty = pd.DataFrame()
        return SessionReport(pd.Series(dtype=float, name="equity"), empty, empty, empty)
    database = open_store(state_dir, DATABASE_FILE)  # a lost or damaged store is refused, naming the fix
    try:
        events, orders = EventStore(database), OrdersStore(database)
        snapshots = list(events.read(types=[EventType.ACCOUNT_SNAPSHOT]))
        equity = pd.Series(
            [float(e.payload["equity"]) for e in snapshots],
            index=pd.DatetimeIndex([e.time for e in snapshots]),
            name="equity",
            dtype=float,
        ).sort_index(kind="stable")
        # Sessions on a sandbox's virtual clock may overlap real ones in time: keep one value per instant.
        equity = equity[~equity.index.duplicated(keep="last")]
        marks = {
            e.payload["client_order_id"]: Decimal(e.payload["mark"])
            for e in events.read(types=[EventType.STRATEGY_DECISION])
        }
        fills = orders.fills()
        rows = []
        for f in fills:
            mark = marks.get(f.client_order_id)
            direction = 1 if f.side is Side.BUY else -1
            slip = None if mark is None else float((f.price - mark) / mark * 10_000 * direction)
            rows.append(
                {
                    "time": f.time,
                    "product": f.product_id,
                    "side": f.side.value,
                    "price": float(f.price),
                    "size": float(f.size),
                    "fee": float(f.fee),
                    "slippage_bps": slip,
                    "order": f.client_order_id,
                }
            )
        # Each product as the bots that traded it described it at their start; one a store never described
        # (a session of a bot before they did) is read as spot.
        multipliers: dict[str, Decimal] = {}
        for started in events.read(types=[EventType.BOT_STARTED]):
            multipliers.update({pid: Decimal(m) for pid, m in started.payload.get("multipliers", {}).items()})
        trades = round_trips(fills, {f.product_id: multipliers.get(f.product_id, Decimal(1)) for f in fills})
        risk = [{"time": e.time, "type": e.type, **e.payload} for e in events.read(types=RISK_EVENTS)]
        tiers = [
            {"time": e.time, **{k: e.payload[k] for k in ("tier", "maker", "taker")}}
            for e in events.read(types=[EventType.ACCOUNT_FEE_TIER])
        ]
        return SessionReport(
            equity,
            pd.DataFrame(rows),
            pd.DataFrame([asdict(t) for t in trades]),
            pd.DataFrame(risk),
            pd.DataFrame(tiers),
        )
    finally:
        database.close()
