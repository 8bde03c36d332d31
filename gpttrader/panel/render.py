"""The panel's tables and lines as HTML, each with a stable CSS class (`gt-...`) that the browser test
finds them by, and a clear empty state instead of an empty table."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from html import escape

from gpttrader.engine.state import BotState, OrderView, PositionView, SizingView
from gpttrader.monitoring import Alert, Banner
from gpttrader.panel.view import StoredView
from gpttrader.risk import GuardLevel, GuardReading

_COLORS = {"ok": "#1b7f3b", "warning": "#b26a00", "critical": "#b00020"}
_LEVELS = {GuardLevel.OK: "ok", GuardLevel.WARNING: "warning", GuardLevel.BREACHED: "critical"}


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
                escape(r.client_order_id),
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


def guards_html(rows: Sequence[GuardReading], now: datetime) -> str:
    def cells(r: GuardReading) -> tuple[str, ...]:
        level = _LEVELS[r.level]
        value = "no reading yet" if r.value is None else f"{r.value:.4g}"
        age = r.age_seconds(now)
        return (
            escape(r.guard) + (f" ({escape(r.scope)})" if r.scope else ""),
            value,
            "" if age is None else f"{age:.0f}s",
            f"{r.limit.normalize():f}",
            f'<span style="color:{_COLORS[level]}">{level}</span>',
            escape(r.action),
        )

    return _table(
        "gt-guards",
        "Guards",
        ("guard", "value", "age", "limit", "level", "action"),
        [cells(r) for r in rows],
        "No guards configured.",
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


def banner_html(banner: Banner | None) -> str:
    if banner is None:
        return '<div class="gt-banner gt-ok"></div>'
    color = _COLORS[banner.level]
    return (
        f'<div class="gt-banner gt-{banner.level}" style="background:{color};color:white;padding:4px 8px">'
        f"{escape(banner.text)}</div>"
    )


def summary_html(view: BotState) -> str:
    state = view.trading_state + (" (paused)" if view.paused else "")
    equity = "n/a" if view.equity is None else f"{view.equity:,.2f}"
    return (
        f'<div class="gt-summary">trading state <b class="gt-state">{escape(state)}</b> &middot; '
        f"equity <b>{equity}</b> &middot; cash {view.cash:,.2f} &middot; "
        f"PnL realized {_money(view.realized)}, unrealized {_money(view.unrealized)}, fees {view.fees:,.2f} "
        f"&middot; cycle {view.counts.cycles} at {view.at:%Y-%m-%d %H:%M:%S} UTC &middot; "
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
        last = (
            f"last session: {session.get('cycles')} cycles, {session.get('orders')} orders, "
            f"{session.get('fills')} fills, equity {session.get('equity')}"
        )
    return (
        f'<div class="gt-stored">profile <code>{escape(profile)}</code>: trading state '
        f'<b class="gt-state">{escape(stored.state or "active")}</b>; {escape(last)}. '
        "Press <b>Start</b> to run it.</div>"
    )
