"""Sessions the notebooks run: a bounded paper session (against a sandbox exchange started here on a
virtual clock, an hour of market in seconds and no network, or against Coinbase's public data), and the
guarded canary session (preflight, opt-in, its window, and always ending flat)."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.graph_objects as go

from gpttrader.app.container import ApplicationContainer
from gpttrader.app.launch import launch
from gpttrader.app.preflight import PreflightResult, live_gate
from gpttrader.config import BotConfig, load_config
from gpttrader.config.models import TradingWindow
from gpttrader.domain.events import EventType
from gpttrader.engine.alert_sink import log as alert_log
from gpttrader.engine.clock import Clock
from gpttrader.engine.kill import KillReport
from gpttrader.engine.state import BotSummary
from gpttrader.monitoring import Alert
from gpttrader.reports.session import SessionReport
from gpttrader.strategy.registry import STRATEGIES, StrategySpec, resolve_strategy

if TYPE_CHECKING:
    from gpttrader.strategy import OrderStrategy, Strategy


class _OncePerChange(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self._shown: dict[str, str] = {}  # each rule's message as last shown

    def filter(self, record: logging.LogRecord) -> bool:
        alert = getattr(record, "alert", None)
        if not isinstance(alert, Alert):
            return True
        if self._shown.get(alert.rule) == alert.message:
            return False
        self._shown[alert.rule] = alert.message
        return True


@contextmanager
def alerts_once_per_change() -> Iterator[None]:
    """While in it, an alert is logged (and so printed under the notebook's cell) when it first fires and
    again only when its message changes, not every cooldown while its condition lasts; the event store and
    the webhook still get every one."""
    once = _OncePerChange()
    alert_log.addFilter(once)
    try:
        yield
    finally:
        alert_log.removeFilter(once)


@dataclass
class PaperSession:
    summary: BotSummary
    fills: pd.DataFrame
    decisions: pd.DataFrame
    metrics_path: Path
    equity: pd.Series  # the account's snapshots during the session
    breaches: pd.DataFrame  # the risk guards' breaches during the session (time, type and the guard's payload)

    def figure(self) -> go.Figure:
        """The session's equity and drawdown, its guard breaches marked, as the performance report draws them."""
        return SessionReport(self.equity, self.fills, pd.DataFrame(), self.breaches).figure()


def paper_session(
    *,
    cycles: int = 60,
    source: str = "sandbox",
    symbols: list[str] | None = None,
    strategy: StrategySpec = "ma_cross",
    strategy_params: dict[str, Any] | None = None,
    granularity: str = "ONE_MINUTE",
) -> PaperSession:
    """`cycles` of the paper profile, one a minute of market: on the local sandbox (`source="sandbox"`,
    offline, on a virtual clock run as fast as it goes) or on Coinbase's public data (real time). The
    strategy decides on each closed bar of `granularity`. `strategy`: a registered name, or your own (as
    "module:Class", the class, or the object)."""
    named = isinstance(strategy, str) and strategy in STRATEGIES
    own = None if named else resolve_strategy(strategy, strategy_params)
    chosen: dict[str, Any] = {"granularity": granularity}
    if named:
        chosen |= {"name": strategy, "params": strategy_params or {"fast": 5, "slow": 20}}
    overrides: dict[str, Any] = {"strategy": chosen}
    if symbols:
        overrides["symbols"] = symbols
    with (
        launch("paper", source, pace_seconds=0.0, overrides=overrides, strategy=own) as session,
        alerts_once_per_change(),
    ):
        return _run(session.container, cycles, own)


def _run(
    container: ApplicationContainer, cycles: int, strategy: "Strategy | OrderStrategy | None" = None
) -> PaperSession:
    container.claim("paper session")
    bot = container.create_bot(strategy)
    bot.bootstrap()
    started = bot.clock.now()
    bot.run(max_cycles=cycles)
    summary = bot.shutdown()
    fills = pd.DataFrame(
        [
            {
                "time": f.time,
                "product": f.product_id,
                "side": f.side.value,
                "price": f.price,
                "size": f.size,
                "fee": f.fee,
            }
            for f in container.orders_store.fills()
            if f.time >= started
        ]
    )
    decisions = pd.DataFrame(
        [e.payload for e in container.event_store.read(types=[EventType.STRATEGY_DECISION]) if e.time >= started]
    )
    snapshots = [e for e in container.event_store.read(types=[EventType.ACCOUNT_SNAPSHOT]) if e.time >= started]
    equity = pd.Series(
        [float(e.payload["equity"]) for e in snapshots],
        index=pd.DatetimeIndex([e.time for e in snapshots]),
        name="equity",
        dtype=float,
    )
    breaches = pd.DataFrame(
        [
            {"time": e.time, "type": e.type, **e.payload}
            for e in container.event_store.read(types=[EventType.RISK_GUARD_BREACHED])
            if e.time >= started
        ]
    )
    return PaperSession(summary, fills, decisions, bot.metrics_path, equity, breaches)


@dataclass
class CanarySession:
    preflight: list[PreflightResult]
    refused: str | None  # why it did not trade, or None
    summary: BotSummary | None = None
    closed: KillReport | None = None  # what the end of the session cancelled and flattened
    error: str | None = None  # set when the kill switch ended it

    def lines(self) -> list[str]:
        shown = [result.line() for result in self.preflight]
        if self.refused:
            return [*shown, f"not trading: {self.refused}"]
        assert self.summary is not None
        shown += self.summary.lines()
        if self.closed is not None:
            shown.append(
                f"closed out: cancelled {self.closed.cancelled or 'none'}, flattened {self.closed.flattened or 'none'}"
            )
        if self.error:
            shown.append(f"kill switch engaged after: {self.error}")
        return shown


def canary_session(
    *,
    live: bool = False,
    max_cycles: int = 0,
    config: BotConfig | None = None,
    clock: Clock | None = None,
    strategy: StrategySpec | None = None,
) -> CanarySession:
    """The canary, guarded: preflight must pass and the opt-in be given (`live`, or GPTTRADER_LIVE=1), it
    trades inside its window only (for `max_cycles`, or until the window closes), and it always ends flat:
    its orders cancelled and positions closed at the end, or the kill switch if anything goes wrong.
    `strategy`: your own (a name, "module:Class", the class or the object) instead of the profile's."""
    own = None if strategy is None else resolve_strategy(strategy)  # first: a bad one claims nothing
    settings = config or load_config("canary")
    with ApplicationContainer(settings, clock=clock) as container, alerts_once_per_change():
        container.claim("canary session")
        gate = live_gate(container, opted_in=live)
        results = gate.results
        if gate.refused:
            return CanarySession(results, gate.refused)
        now = container.clock.now()
        window = settings.trading_window
        left = _minutes_left(window, now) if window is not None else max_cycles
        cycles = min(max_cycles, left) if max_cycles else left
        if cycles <= 0:
            return CanarySession(
                results,
                f"outside the trading window {window.start:%H:%M}-{window.end:%H:%M} UTC"
                if window
                else "no cycles to run",
            )
        bot = container.create_bot(own)
        bot.bootstrap()
        try:
            bot.run(max_cycles=cycles)
        except Exception as exc:  # whatever it was, the session ends with the kill switch
            report = bot.kill(operator="canary session", reason=f"{type(exc).__name__}: {exc}")
            return CanarySession(results, None, bot.shutdown(), report, f"{type(exc).__name__}: {exc}")
        return CanarySession(results, None, bot.shutdown(), bot.close_out())


def _minutes_left(window: TradingWindow, now: datetime) -> int:
    """Whole minutes from `now` to the end of the window it is in (0 outside it)."""
    if not window.contains(now):
        return 0
    end = now.replace(hour=window.end.hour, minute=window.end.minute, second=0, microsecond=0)
    if end <= now:
        end += timedelta(days=1)
    return int((end - now).total_seconds() // 60)
