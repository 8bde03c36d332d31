"""What a paper or live session did, read back from a profile's stores: equity and drawdown (the account
snapshots), fills and fees, slippage of each fill against the mark its decision was made at, round trips,
and the risk manager's events."""

from collections.abc import Hashable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

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
# What the risk table shows of each event: the rest of a payload (order ids, sizes, comparisons) is in the
# store for whoever needs it (`gpttrader events tail`).
RISK_COLUMNS = ["time", "event", "product", "subject", "value", "limit", "detail"]


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

    @property
    def sessions(self) -> list[pd.Timestamp]:
        """When each session that left risk events started, in the order they ran (a sandbox's virtual clock
        may start a later session at an earlier time)."""
        if self.risk_events.empty:
            return []
        return list(dict.fromkeys(self.risk_events["session"].dropna()))

    def risk_table(self, session: str = "latest") -> pd.DataFrame:
        """The risk manager's events as a reader needs them, in time order: the latest session's, the
        session's that started at `session` (a time, as `sessions` lists them), or "all" sessions'."""
        if self.risk_events.empty:
            return pd.DataFrame(columns=RISK_COLUMNS)
        events = self.risk_events
        if session == "latest" and not self.sessions:  # no bot has started: what an operator did before
            events = events[events["session"].isna()]
        elif session != "all":
            events = events[events["session"] == (self.sessions[-1] if session == "latest" else pd.Timestamp(session))]
        rows = [_readable(event) for event in events.to_dict("records")]
        return pd.DataFrame(rows, columns=RISK_COLUMNS).sort_values("time", kind="stable").reset_index(drop=True)

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
            # Sessions on a sandbox's virtual clock may overlap in time: the marker takes the equity last
            # recorded at or before it, whichever session recorded it.
            ordered = self.equity.sort_index(kind="stable")
            ordered = ordered[~ordered.index.duplicated(keep="last")]
            figure.add_trace(
                go.Scatter(
                    x=times,
                    y=ordered.reindex(times, method="ffill"),
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
        # A session is what a bot did from its start to the next bot's (an operator's resume between them
        # belongs to the session it let go on); events before any bot started have no session.
        risk: list[dict[str, object]] = []
        session = None
        for e in events.read(types=[EventType.BOT_STARTED, *RISK_EVENTS]):
            if e.type == EventType.BOT_STARTED:
                session = e.time
            else:
                risk.append({"time": e.time, "session": session, "type": e.type, **e.payload})
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


def _readable(event: Mapping[Hashable, Any]) -> dict[str, object]:
    """One row of the risk table: what happened, to what, and why, whatever the event's type."""
    # A row of the frame of every event type: the keys of other types' payloads are there too, as NaN.
    event = {key: value for key, value in event.items() if not (isinstance(value, float) and pd.isna(value))}
    kind = EventType(event["type"])
    row: dict[str, object] = {"time": event["time"], "event": kind.value.removeprefix("risk.").replace("_", " ")}
    if kind == EventType.RISK_GUARD_WARNING:
        row |= {
            "product": event.get("scope"),
            "subject": event["guard"],
            "value": float(event["value"]),
            "limit": event["limit"],
            "detail": f"past its warning level {event['warning']}",
        }
    elif kind == EventType.RISK_GUARD_BREACHED:
        row |= {
            "product": event.get("scope"),
            "subject": event["guard"],
            "value": float(event["value"]),
            "limit": event["limit"],
            "detail": f"{event['message']}; action {event['action']}",
        }
    elif kind == EventType.RISK_STATE_CHANGED:
        row |= {"subject": f"{event['from']} -> {event['to']}", "detail": f"{event['reason']} (by {event['by']})"}
    elif kind == EventType.RISK_ORDER_REJECTED:
        row |= {"product": event["product_id"], "subject": event["check"], "detail": event["message"]}
    else:  # the kill switch
        row |= {"subject": "kill switch", "detail": f"{event['reason']} (by {event['operator']})"}
    return row
