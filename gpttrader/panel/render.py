"""The panel's tables and lines as HTML, each with a stable CSS class (`gt-...`) that the browser test
finds them by, and a clear empty state instead of an empty table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING, Any

from gpttrader.monitoring.health import SUCCESS_WARNING, Banner
from gpttrader.panel.view import StoredView

if TYPE_CHECKING:  # the engine and the risk layer are imported when a session starts, not to show the panel
    from gpttrader.engine.state import BotState, OrderView, PositionView, SizingView
    from gpttrader.monitoring import Alert
    from gpttrader.risk import GuardReading

_COLORS = {"ok": "#1b7f3b", "warning": "#b26a00", "critical": "#b00020"}
_LEVELS = {"OK": "ok", "WARNING": "warning", "BREACHED": "critical"}  # by GuardLevel name
# Cells padded and kept on one line, each table scrolling inside its own box: side by side, the positions'
# and the orders' columns never run into each other.
STYLE = (
    "<style>.gt-panel table{border-collapse:collapse;font-size:12px}"
    ".gt-panel th,.gt-panel td{padding:2px 8px;text-align:left;white-space:nowrap}"
    ".gt-panel thead th{border-bottom:1px solid #ccc}</style>"
)
# How each guard's metric reads: the same figure, sign and precision as the risk log's message.
_MONEY = frozenset({"daily_loss", "hourly_loss", "depth"})
_SHARES = frozenset(
    {
        "daily_loss_share",
        "hourly_loss_share",
        "drawdown",
        "error_rate",
        "liquidation_buffer",
        "volatility",
        "concentration",
    }
)
_COUNTS = frozenset({"consecutive_losses", "api_errors"})


def _table(css: str, title: str, header: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> str:
    if not rows:
        return f'<div class="{css} gt-empty"><b>{title}</b><p><i>{escape(empty)}</i></p></div>'
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<div class="{css}"><b>{title}</b><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _money(value: Decimal) -> str:
    color = _COLORS["critical"] if value < 0 else _COLORS["ok"] if value > 0 else "inherit"
    return f'<span style="color:{color}">{value:,.2f}</span>'


def positions_html(rows: Sequence[PositionView]) -> str:
    return _table(
        "gt-positions",
        "Positions",
        ("product", "size", "entry", "mark", "unrealized", "realized"),
        [
            (
                escape(r.product),
                f"{r.size.normalize():f}",
                f"{r.entry:,.2f}",
                f"{r.mark:,.2f}",
                _money(r.unrealized),
                _money(r.realized),
            )
            for r in rows
        ],
        "No positions: flat.",
    )


def orders_html(rows: Sequence[OrderView]) -> str:
    return _table(
        "gt-orders",
        "Open orders",
        ("client order id", "product", "side", "type", "size", "filled", "price", "status", "age"),
        [
            (
                _short_id(r.client_order_id),
                escape(r.product),
                r.side,
                r.kind,
                f"{r.size.normalize():f}",
                f"{r.filled.normalize():f}",
                "" if r.price is None else f"{r.price:,.2f}",
                r.status,
                f"{r.age_seconds:.0f}s",
            )
            for r in rows
        ],
        "No open orders.",
    )


def _short_id(client_order_id: str) -> str:
    """Its tail, the part that differs between orders; the whole id on hover."""
    tail = client_order_id if len(client_order_id) <= 14 else "…" + client_order_id[-12:]
    return f'<span title="{escape(client_order_id)}">{escape(tail)}</span>'


def guard_figure(metric: str, value: Decimal | float) -> str:
    """A guard's value or limit in its metric's unit: a loss as the positive amount lost (as the risk log
    writes it), a share as a percentage, a count whole, an age in seconds."""
    number = Decimal(repr(value)) if isinstance(value, float) else value
    if metric in _MONEY:
        return f"{number:,.2f}"
    if metric in _SHARES:
        return f"{number:.2%}"
    if metric in _COUNTS:
        return f"{number:.0f}"
    if metric == "mark_age_seconds":
        return f"{number:.0f}s"
    if metric == "spread_bps":
        return f"{number:.1f} bp"
    return f"{number.normalize():f}"


def guards_html(rows: Sequence[GuardReading], now: datetime, *, show_all: bool = False) -> str:
    """Only the guards at a warning or breach, unless all are asked for: with a guard per product, the whole
    list is dozens of rows that push everything else off the screen."""

    def cells(r: GuardReading) -> tuple[str, ...]:
        level = _LEVELS[r.level.name]
        value = "no reading yet" if r.value is None else guard_figure(r.metric, r.value)
        age = r.age_seconds(now)
        return (
            escape(r.guard) + (f" ({escape(r.scope)})" if r.scope else ""),
            value,
            "" if age is None else f"{age:.0f}s",
            guard_figure(r.metric, r.limit),
            f'<span style="color:{_COLORS[level]}">{level}</span>',
            escape(r.action),
        )

    raised = [r for r in rows if r.level.name != "OK"]
    shown = rows if show_all else raised
    title = f"Guards: {len(raised)} of {len(rows)} at a warning or breach" + (", all shown" if show_all else "")
    empty = "No guards configured." if not rows else f"All {len(rows)} guards ok."
    return _table(
        "gt-guards",
        title,
        ("guard", "value", "age", "limit", "level", "action"),
        [cells(r) for r in shown],
        empty,
    )


def _fraction(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2%}"


def sizing_html(sizing: SizingView) -> str:
    """The sizing method with the account's fee rates, then each strategy's edge estimate on each product
    (and whether Kelly or its floor sizes it now), then each product's market regime."""
    fees = (
        "fee rates not read yet"
        if sizing.fees is None
        else f"fee tier {escape(sizing.fees.tier)}: maker {_fraction(sizing.fees.maker)}, "
        f"taker {_fraction(sizing.fees.taker)}"
    )
    head = f'<div class="gt-sizing-method">sizing <b>{escape(sizing.method)}</b> &middot; {fees}</div>'

    def sized_by(trades: int) -> str:
        if sizing.method != "kelly":
            return "not used"
        if trades < sizing.min_trades:
            return f"floor {_fraction(sizing.floor_fraction)} ({trades} of {sizing.min_trades} trips)"
        return "kelly"

    edges = _table(
        "gt-edges",
        "Edge estimates",
        ("strategy", "product", "trips", "win rate", "avg win", "avg loss", "kelly", "sized by"),
        [
            (
                escape(e.strategy),
                escape(e.product_id),
                str(e.trades),
                _fraction(e.win_rate),
                _fraction(e.avg_win),
                _fraction(e.avg_loss),
                _fraction(e.kelly),
                sized_by(e.trades),
            )
            for e in sizing.edges
        ],
        "No round trip recorded yet.",
    )
    regimes = _table(
        "gt-regimes",
        "Market regimes",
        ("product", "regime"),
        [(escape(pid), escape(regime)) for pid, regime in sizing.regimes],
        "No regime yet: too few bars.",
    )
    return f'<div class="gt-sizing">{head}{edges}{regimes}</div>'


def alerts_html(alerts: Sequence[Alert], active: frozenset[str]) -> str:
    rows = [
        (
            f"{a.at:%H:%M:%S}",
            f'<span style="color:{_COLORS[a.severity]}">{a.severity}</span>',
            escape(a.rule) + (" (active)" if a.rule in active else ""),
            escape(a.message),
            escape(a.hint),
        )
        for a in alerts
    ]
    return _table("gt-alerts", "Alerts", ("time", "severity", "rule", "message", "what to do"), rows, "No alerts.")


_STATE_EFFECTS = {
    "reduce_only": "orders that would grow a position are refused",
    "halted": "no order is placed",
}


def state_reason(view: BotState, change: Mapping[str, Any] | None) -> str | None:
    """Why the bot is not simply trading, cause first: its trading state with who or what set it (a guard's
    breach with its reading and limit), then that it is paused; None while it is active and not paused."""
    parts = []
    if view.trading_state != "active":
        cause = "cause not recorded"
        if change is not None and change.get("to") == view.trading_state:
            reason = str(change.get("reason", ""))
            by = f"set by {change['operator']}: " if change.get("by") == "operator" else ""
            cause = by + reason + _guard_detail(reason, view.guards)
        effect = _STATE_EFFECTS.get(view.trading_state, "")
        parts.append(f"{view.trading_state.replace('_', '-')} ({cause})" + (f": {effect}" if effect else ""))
    if view.paused:
        parts.append("paused: the strategy's decisions are not acted on")
    return "; ".join(parts) or None


def _guard_detail(reason: str, guards: Sequence[GuardReading]) -> str:
    """A guard's escalation names the guard only ("guard hourly_loss"): its breached reading and limit."""
    name = reason.removeprefix("guard ")
    if name == reason:
        return ""
    for r in guards:
        if r.guard == name and r.level.name == "BREACHED" and r.value is not None:
            scope = f" on {r.scope}" if r.scope else ""
            return (
                f" breached{scope}: {guard_figure(r.metric, r.value)} "
                f"against a limit of {guard_figure(r.metric, r.limit)}"
            )
    return " breached"


def banner_html(view: BotState, change: Mapping[str, Any] | None = None) -> str:
    """One line on top, the reason first: why the bot is not trading freely (and what lifts it), then the
    monitor's banner unless all it says is that a breaker holds the bot, which the reason already says
    better (the breaker alone makes execution health critical, with no execution alert to see)."""
    lines, level = [], "ok"
    reason = state_reason(view, change)
    if reason is not None:
        level = "critical" if view.trading_state == "halted" else "warning"
        lines.append(f"{reason}. Type a reason and press Resume to trade again.")
    monitor: Banner | None = view.banner
    if monitor is not None and not _breaker_only(monitor, view):
        lines.append(monitor.text)
        level = "critical" if "critical" in (level, monitor.level) else monitor.level
    if not lines:
        return '<div class="gt-banner gt-ok"></div>'
    text = "<br>".join(escape(line) for line in lines)
    return (
        f'<div class="gt-banner gt-{level}" style="background:{_COLORS[level]};color:white;padding:4px 8px">'
        f"{text}</div>"
    )


def _breaker_only(monitor: Banner, view: BotState) -> bool:
    return (
        monitor.text.startswith("execution health")
        and view.trading_state != "active"
        and view.health.success_rate >= SUCCESS_WARNING
    )


def counts_text(counts: Mapping[str, Any]) -> str:
    """A session's counts in one reading: the strategy's orders beside the decisions refused, and the fills
    said to include the exits and flattening, which are placed without a decision and not counted as orders."""
    return (
        f"{counts.get('decisions', 0)} decisions: "
        f"{counts.get('orders', 0)} orders placed, {counts.get('rejected', 0)} refused by risk; "
        f"{counts.get('fills', 0)} fills (exits and flattening included), {counts.get('errors', 0)} errors"
    )


def summary_html(view: BotState) -> str:
    state = view.trading_state + (" (paused)" if view.paused else "")
    equity = "n/a" if view.equity is None else f"{view.equity:,.2f}"
    return (
        f'<div class="gt-summary">trading state <b class="gt-state">{escape(state)}</b> &middot; '
        f"equity <b>{equity}</b> &middot; cash {view.cash:,.2f} &middot; "
        f"PnL realized {_money(view.realized)}, unrealized {_money(view.unrealized)}, fees {view.fees:,.2f}<br>"
        f'<span class="gt-counts">cycle {view.counts.cycles} at {view.at:%Y-%m-%d %H:%M:%S} UTC: '
        f"{escape(counts_text(asdict(view.counts)))}</span> &middot; "
        f'configuration <span class="gt-config-version">v{view.config_version}</span></div>'
    )


def status_html(phase: str, message: str) -> str:
    lines = "<br>".join(escape(line) for line in message.splitlines())
    return f'<div class="gt-status gt-phase-{phase}"><b>{escape(phase)}</b> {lines}</div>'


def stored_html(stored: StoredView, profile: str) -> str:
    """The view before a session: a first run explains what Start will do; otherwise the stored state."""
    if stored.first_run:
        return (
            '<div class="gt-first-run"><b>First run</b>: nothing is stored yet for profile '
            f"<code>{escape(profile)}</code> (in <code>{escape(str(stored.state_dir))}</code>). Choose a mode and "
            "press <b>Start</b>: <i>dev</i> runs the deterministic broker, <i>paper / sandbox</i> a local exchange "
            "offline, <i>paper / coinbase</i> Coinbase's public data; canary and prod trade real money and need "
            "credentials, a passing preflight and the opt-in.</div>"
        )
    if stored.refused is not None:
        return f'<div class="gt-refused"><b>Store refused</b>: {escape(stored.refused)}</div>'
    last = "no session has ended yet"
    if stored.last_session:
        session = stored.last_session
        last = f"last session: {session.get('cycles')} cycles, {counts_text(session)}; equity {session.get('equity')}"
    return (
        f'<div class="gt-stored">profile <code>{escape(profile)}</code>: trading state '
        f'<b class="gt-state">{escape(stored.state or "active")}</b>; {escape(last)}. '
        "Press <b>Start</b> to run it.</div>"
    )


def equity_svg(times: Sequence[datetime], values: Sequence[float], width: int = 900, height: int = 180) -> str:
    """The equity line as inline SVG: drawn by the browser with no widget library to load, so the panel shows
    at once, and small enough to sit above the tables."""
    if len(values) < 2:
        return '<div class="gt-equity gt-empty"><b>Equity</b><p><i>The line starts after two cycles.</i></p></div>'
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    left, right, top, bottom = 70, width - 10, 10, height - 20
    step = (right - left) / (len(values) - 1)
    points = " ".join(
        f"{left + i * step:.1f},{bottom - (v - low) / span * (bottom - top):.1f}" for i, v in enumerate(values)
    )
    return (
        f'<div class="gt-equity"><b>Equity</b> {values[-1]:,.2f}<br>'
        f'<svg width="{width}" height="{height}" style="max-width:100%">'
        f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{points}"/>'
        f'<text x="0" y="{top + 10}" font-size="11">{high:,.2f}</text>'
        f'<text x="0" y="{bottom}" font-size="11">{low:,.2f}</text>'
        f'<text x="{left}" y="{height - 4}" font-size="11">{times[0]:%H:%M}</text>'
        f'<text x="{right}" y="{height - 4}" font-size="11" text-anchor="end">{times[-1]:%H:%M} UTC</text>'
        "</svg></div>"
    )
