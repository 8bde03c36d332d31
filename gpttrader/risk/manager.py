"""`LiveRiskManager`: the one facade every order and every guard reading goes through, in the backtest as
in paper and live.

It sizes positions, validates orders, evaluates the runtime guards and owns the trading state. Its
evaluations are pure (`check_order`, `guard_transitions`, `escalations`), and what it records
(`record_rejection`, `apply`, `escalate`, `set_state`) goes to its journal; the live loop calls the
convenience methods that do both (`validate`, `observe`), and the backtest, which must be able to replay a
stretch of bars when a guard trips inside it, calls the two halves itself.
"""

import copy
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np

from gpttrader.config.models import BotConfig
from gpttrader.domain import MarketRegime, OrderRequest
from gpttrader.domain.events import EventType
from gpttrader.risk.checks import CheckResult, PreTradeDecision, TradeContext, run_checks
from gpttrader.risk.edge import EdgeEstimate, EdgeRecord, EdgeSeed
from gpttrader.risk.errors import RiskGuardCriticalError, RiskGuardError
from gpttrader.risk.guards import Guard, GuardLevel, GuardReading, build_guards
from gpttrader.risk.journal import RiskJournal
from gpttrader.risk.limits import TradeLimits
from gpttrader.risk.metrics import MetricWindows
from gpttrader.risk.regime import RegimeDetector, RegimeSettings
from gpttrader.risk.sizing import (
    PositionSizer,
    PositionSizeRecommendation,
    PositionSizeRequest,
    sizer_from_config,
)
from gpttrader.risk.state import ACTION_STATES, TradingState

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("gpttrader.risk")

# Asks the venue what it thinks of an order (Coinbase's order preview): None when fine, else why not.
OrderPreviewHook = Callable[[OrderRequest], str | None]


DEFAULT_WINDOWS = MetricWindows()
DEFAULT_REGIME = RegimeSettings()


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class GuardTransition:
    """A guard's level changing at position `index` of the series it was evaluated on."""

    index: int
    guard: Guard
    level: GuardLevel
    value: float
    scope: str | None


class LiveRiskManager:
    def __init__(
        self,
        *,
        guards: Sequence[Guard],
        limits: TradeLimits,
        sizer: PositionSizer,
        journal: RiskJournal,
        preview: OrderPreviewHook | None = None,
        run_id: str | None = None,
        clock: Callable[[], datetime] = _utc_now,
        windows: MetricWindows = DEFAULT_WINDOWS,
        logger: logging.Logger = log,
        edge: EdgeRecord | None = None,
        regime_settings: RegimeSettings = DEFAULT_REGIME,
    ) -> None:
        self.guards = tuple(guards)
        self.log = logger
        self.windows = windows
        self.clock = clock  # a backtest's manager runs on the simulated clock
        self.limits = limits
        self.sizer = sizer
        self.journal = journal
        self.preview = preview
        self.run_id = run_id
        self.counters: Counter[str] = Counter()
        self._by_metric: dict[str, list[Guard]] = {}
        for guard in self.guards:
            self._by_metric.setdefault(guard.metric, []).append(guard)
        self._levels: dict[tuple[str, str | None], GuardLevel] = {}
        self._values: dict[tuple[str, str | None], float] = {}
        self._read_at: dict[tuple[str, str | None], datetime] = {}
        self._inactive: dict[str, str] = {}  # guards switched off for the run: nothing in this mode feeds them
        self._last_event: dict[tuple[str, str | None], datetime] = {}
        saved = journal.latest(EventType.RISK_STATE_CHANGED)
        self._state = TradingState(saved["to"]) if saved else TradingState.ACTIVE
        # What sizing reads besides the request: the strategies' records and the products' regimes.
        self.edge = edge if edge is not None else EdgeRecord()
        self.regime_settings = regime_settings
        self.regimes: dict[str, MarketRegime] = {}
        self._detectors: dict[str, RegimeDetector] = {}
        self._announcing = False  # edge events: from `announce_edges` on (a start's re-booked trips are quiet)
        # Runs the start's seed backtest (wired by the application: the risk layer cannot run a backtest).
        self.edge_seed: EdgeSeed | None = None

    @classmethod
    def from_config(
        cls,
        config: BotConfig,
        journal: RiskJournal,
        *,
        preview: OrderPreviewHook | None = None,
        run_id: str | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> "LiveRiskManager":
        manager = cls(
            clock=clock,
            guards=build_guards(config.guards),
            limits=TradeLimits.from_config(config),
            sizer=sizer_from_config(config),
            journal=journal,
            preview=preview if config.risk.use_order_preview else None,
            run_id=run_id,
            windows=MetricWindows(
                config.risk.volatility_window,
                config.risk.correlation_window,
                config.risk.error_rate_window,
                config.risk.api_error_window_seconds,
            ),
            edge=EdgeRecord(config.sizing.kelly_prior_trades, timedelta(days=config.sizing.kelly_window_days)),
            regime_settings=RegimeSettings.of(config.sizing),
        )
        if not config.is_live:
            manager._lift_state_of_another_unit()
        return manager

    def _lift_state_of_another_unit(self) -> None:
        """A simulated account's state that the system set for a breach measured in a unit its guard no
        longer uses (a paper account stopped by the $100 hourly loss of before limits were shares of equity)
        is lifted, recorded: that breach says nothing under the rules in force, and no money is at stake. A
        live account keeps any state for an operator to lift."""
        saved = self.journal.latest(EventType.RISK_STATE_CHANGED)
        breach = self.journal.latest(EventType.RISK_GUARD_BREACHED)
        if saved is None or breach is None or saved.get("by") != "system" or self._state is TradingState.ACTIVE:
            return
        guard = next((g for g in self.guards if saved.get("reason") == f"guard {g.name}"), None)
        if guard is None or breach.get("guard") != guard.name or breach.get("metric") == guard.metric:
            return
        reason = (
            f"guard {guard.name} now watches {guard.metric}; it tripped on {breach.get('metric')} {breach.get('value')}"
        )
        self._change_state(TradingState.ACTIVE, {"by": "system", "reason": reason}, None)

    @property
    def state(self) -> TradingState:
        return self._state

    def metrics(self) -> frozenset[str]:
        """The metrics some enabled guard watches."""
        return frozenset(self._by_metric)

    def reconfigure(self, config: BotConfig) -> None:
        """Take a reloaded configuration's protections (gpttrader.engine.reload): the pre-trade limits, the
        guards' rules and the sizer. The trading state, each guard's last reading and level, the edge record
        and the regimes carry on; a guard this mode cannot feed stays off."""
        self.limits = TradeLimits.from_config(config)
        self.sizer = sizer_from_config(config)
        before = {g.name: g.rule for g in self.guards}
        self.guards = tuple(g for g in build_guards(config.guards) if g.name not in self._inactive)
        # A guard whose rule changed starts afresh, so that its next reading acts under the new rule: one
        # breached under `warn` and made `halt` halts then, rather than waiting for a level it already holds.
        changed = {g.name for g in self.guards if before.get(g.name) != g.rule}
        self._levels = {key: level for key, level in self._levels.items() if key[0] not in changed}
        self._by_metric = {}
        for guard in self.guards:
            self._by_metric.setdefault(guard.metric, []).append(guard)

    def deactivate(self, name: str, reason: str) -> None:
        """Switch a guard off for this run because nothing in this mode can feed it (a liquidation buffer
        with no derivatives traded): recorded, so a guard that never reads is never shown as watching."""
        guard = next((g for g in self.guards if g.name == name), None)
        if guard is None:
            return
        self._inactive[name] = reason
        self.guards = tuple(g for g in self.guards if g is not guard)
        self._by_metric[guard.metric].remove(guard)
        if not self._by_metric[guard.metric]:
            del self._by_metric[guard.metric]
        self._record(EventType.RISK_GUARD_INACTIVE, {"guard": name, "reason": reason}, None)

    # sizing

    def calculate_position_size(self, request: PositionSizeRequest) -> PositionSizeRecommendation:
        """Size `request`; what it leaves out (no edge estimate, no regime: the engine's requests) comes
        from the strategy's record on the product and the product's current regime."""
        regime = request.market_regime or self.regimes.get(request.symbol)
        if request.win_rate is None and request.avg_win is None and request.avg_loss is None:
            e = self.edge.estimate(request.strategy_name, request.symbol, self.clock())
            request = request.completed(e.win_rate, e.avg_win, e.avg_loss, e.trades, regime)
        elif regime is not request.market_regime:
            request = request.completed(
                request.win_rate, request.avg_win, request.avg_loss, request.trade_count, regime
            )
        recommendation = self.sizer.calculate_position_size(request)
        if recommendation.reasons:
            self._record(
                EventType.RISK_SIZING_CUT,
                {
                    "symbol": request.symbol,
                    "strategy": request.strategy_name,
                    "method": recommendation.method,
                    "size": str(recommendation.size),
                    "fraction": str(recommendation.fraction),
                    "reasons": list(recommendation.reasons),
                    "trades": request.trade_count,
                    "win_rate": None if request.win_rate is None else str(request.win_rate),
                    "avg_win": None if request.avg_win is None else str(request.avg_win),
                    "avg_loss": None if request.avg_loss is None else str(request.avg_loss),
                    "regime": None if request.market_regime is None else request.market_regime.value,
                },
                None,
            )
        return recommendation

    # the edge record

    def record_trip(
        self, strategy: str, product_id: str, fraction: Decimal, at: datetime | None = None
    ) -> EdgeEstimate:
        """Count a closed round trip (PnL after fees over its entry notional) in the strategy's record."""
        estimate = self.edge.record(strategy, product_id, fraction, at or self.clock())
        if self._announcing:
            self._record(EventType.RISK_EDGE_ESTIMATE, {**estimate.payload(), "fraction": str(fraction)}, at)
        return estimate

    def announce_edges(self, at: datetime | None = None, source: str = "record") -> None:
        """Record every estimate as it stands, and each change from now on (trips counted before, such as
        the fills a start books again, are announced here once, not one event each)."""
        self._announcing = True
        for estimate in self.edge.estimates(at or self.clock()):
            self._record(EventType.RISK_EDGE_ESTIMATE, {**estimate.payload(), "source": source}, at)

    # market regimes

    def observe_bar(self, product_id: str, at: datetime, close: float) -> MarketRegime | None:
        """A closed bar of the product (live): its regime detector classifies it."""
        return self.observe_bars(product_id, [at], [close])

    def observe_bars(self, product_id: str, times: Sequence[datetime], closes: Sequence[float]) -> MarketRegime | None:
        """Closed bars of the product, oldest first (a start's history at once): the regime after the last."""
        detector = self._detectors.get(product_id)
        if detector is None:
            detector = self._detectors[product_id] = RegimeDetector(self.regime_settings)
        regime = detector.extend(times, closes)
        if regime is not None and times:
            self.set_regime(product_id, regime, times[-1])
        return regime

    def set_regime(self, product_id: str, regime: MarketRegime, at: datetime | None = None) -> None:
        """The product's regime from now on (the backtest's, computed for the whole run); recorded on change."""
        before = self.regimes.get(product_id)
        if regime is before:
            return
        self.regimes[product_id] = regime
        previous = None if before is None else before.value
        self._record(
            EventType.RISK_REGIME, {"product_id": product_id, "regime": regime.value, "previous": previous}, at
        )

    # pre-trade validation

    def check_order(self, ctx: TradeContext) -> PreTradeDecision:
        """Every pre-trade check under `ctx.state`, then the venue's preview if one is wired; records nothing."""
        decision = run_checks(ctx, self.limits)
        if decision.passed and self.preview is not None:
            problem = self.preview(ctx.order)
            verdict = CheckResult("order_preview", problem is None, "" if problem is None else "preview", problem or "")
            decision = PreTradeDecision((*decision.results, verdict))
        return decision

    def record_rejection(self, ctx: TradeContext, decision: PreTradeDecision) -> None:
        rejection = decision.rejection
        if rejection is None:
            return
        self.counters[f"risk.checks.{rejection.check}.rejections"] += 1
        self.log.info("order %s rejected by %s: %s", ctx.order.client_order_id, rejection.check, rejection.message)
        self._record(
            EventType.RISK_ORDER_REJECTED,
            {
                "client_order_id": ctx.order.client_order_id,
                "product_id": ctx.order.product_id,
                "side": str(ctx.order.side),
                "size": str(ctx.order.size),
                "check": rejection.check,
                "reason": rejection.reason,
                "message": rejection.message,
                "state": str(ctx.state),
            },
            ctx.now,
        )

    def validate(self, ctx: TradeContext) -> PreTradeDecision:
        """Check an order under the manager's own state and record a rejection."""
        ctx = replace(ctx, state=self._state)
        decision = self.check_order(ctx)
        self.record_rejection(ctx, decision)
        return decision

    # runtime guards

    def observe(self, metric: str, value: Decimal | float, at: datetime, scope: str | None = None) -> GuardLevel:
        """Feed one reading to the guards on `metric`; returns the worst level among them."""
        worst = GuardLevel.OK
        number = Decimal(str(value))
        for guard in self._by_metric.get(metric, ()):
            try:
                level = guard.check(number, scope) if number.is_finite() else GuardLevel.OK
            except RiskGuardError as failure:
                level = GuardLevel.BREACHED
                self._transition(guard, scope, level, float(number), at, failure)
            else:
                self._transition(guard, scope, level, float(number), at, None)
            worst = max(worst, level)
        return worst

    def readings(self) -> list[GuardReading]:
        """Every guard with its last reading per scope (one row without a reading if it has none yet)."""
        rows = []
        for guard in self.guards:
            scopes = [scope for name, scope in self._values if name == guard.name] or [None]
            for scope in scopes:
                key = (guard.name, scope)
                rows.append(
                    GuardReading(
                        guard.name,
                        guard.metric,
                        scope,
                        self._values.get(key),
                        self._levels.get(key, GuardLevel.OK),
                        guard.rule.limit,
                        guard.rule.action,
                        self._read_at.get(key),
                    )
                )
        return rows

    def guard_transitions(self, metric: str, values: np.ndarray, scope: str | None = None) -> list[GuardTransition]:
        """Where each guard on `metric` changes level along `values`, from the level it is at now."""
        found: list[GuardTransition] = []
        for guard in self._by_metric.get(metric, ()):
            levels = guard.levels(values)
            before = self._levels.get((guard.name, scope), GuardLevel.OK)
            changes = np.flatnonzero(levels != np.r_[np.int8(before), levels[:-1]])
            found.extend(
                GuardTransition(int(i), guard, GuardLevel(int(levels[i])), float(values[i]), scope) for i in changes
            )
        found.sort(key=lambda t: t.index)
        return found

    def escalations(self, transitions: Iterable[GuardTransition]) -> list[tuple[GuardTransition, TradingState]]:
        """The transitions (in index order) that would move the trading state, and where to."""
        state, moves = self._state, []
        for transition in sorted(transitions, key=lambda t: t.index):
            if transition.level is GuardLevel.BREACHED and transition.guard.critical:
                target = ACTION_STATES[transition.guard.rule.action]
                if target.is_safer_than(state):
                    state = target
                    moves.append((transition, target))
        return moves

    def apply(self, transitions: Iterable[GuardTransition], times: "Sequence[datetime] | pd.DatetimeIndex") -> None:
        """Record transitions found by `guard_transitions`; `times[i]` is the time of series position i."""
        for t in sorted(transitions, key=lambda t: t.index):
            failure = t.guard.failure(Decimal(repr(t.value)), t.scope) if t.level is GuardLevel.BREACHED else None
            self._transition(t.guard, t.scope, t.level, t.value, times[t.index], failure)

    def _transition(
        self,
        guard: Guard,
        scope: str | None,
        level: GuardLevel,
        value: float,
        at: datetime,
        failure: RiskGuardError | None,
    ) -> None:
        key = (guard.name, scope)
        before = self._levels.get(key, GuardLevel.OK)
        self._levels[key] = level
        self._values[key] = value
        self._read_at[key] = at
        if level <= before:
            return
        last = self._last_event.get(key)
        quiet = last is not None and (at - last).total_seconds() < guard.rule.cooldown_seconds
        if failure is None:
            if not quiet:
                self._last_event[key] = at
                self.log.warning(
                    "risk guard %s%s warning: %s = %s (limit %s)",
                    guard.name,
                    f" ({scope})" if scope else "",
                    guard.metric,
                    value,
                    guard.rule.limit,
                )
                self._record(
                    EventType.RISK_GUARD_WARNING,
                    {
                        "guard": guard.name,
                        "metric": guard.metric,
                        "value": value,
                        "scope": scope,
                        "limit": str(guard.rule.limit),
                        "warning": str(guard.rule.warning_threshold),
                    },
                    at,
                )
            return
        if not quiet:
            self._last_event[key] = at
            kind = "critical" if isinstance(failure, RiskGuardCriticalError) else "recoverable"
            self.counters[f"risk.guards.{guard.name}.{kind}_failures"] += 1
            self.log.warning("%s", failure)
            self._record(EventType.RISK_GUARD_BREACHED, {**failure.payload(), "severity": kind}, at)
        if isinstance(failure, RiskGuardCriticalError):
            self.escalate(ACTION_STATES[failure.action], f"guard {guard.name}", at)

    # trading state

    def escalate(self, state: TradingState, reason: str, at: datetime | None = None) -> bool:
        """Move toward safety; a request to move back is ignored (only `set_state` can). The state recorded
        last is read first, so that a halt another process recorded is never overwritten by a milder one."""
        self.reload_state()
        if not state.is_safer_than(self._state):
            return False
        self._change_state(state, {"by": "system", "reason": reason}, at)
        return True

    def set_state(self, state: TradingState, *, operator: str, reason: str, at: datetime | None = None) -> None:
        """An operator's explicit move, in either direction, recorded with who and why."""
        if not operator.strip():
            raise ValueError("an operator action needs the operator's name")
        if not reason.strip():
            raise ValueError("an operator action needs a reason")
        self._levels.clear()  # guards start afresh: a still-breached guard trips again on its next reading
        self._change_state(state, {"by": "operator", "operator": operator, "reason": reason}, at)

    def engage_kill_switch(self, *, operator: str, reason: str, at: datetime | None = None) -> None:
        """Halt now. Cancelling open orders and flattening is the engine's half of the kill switch."""
        self._record(EventType.RISK_KILL_SWITCH, {"operator": operator, "reason": reason}, at)
        self.set_state(TradingState.HALTED, operator=operator, reason=f"kill switch: {reason}", at=at)

    def reload_state(self) -> TradingState:
        """Adopt the state last recorded in the journal, which another process may have written (the kill
        switch from the command line while a bot runs, an operator's `risk set`)."""
        saved = self.journal.latest(EventType.RISK_STATE_CHANGED)
        if saved is not None and saved["to"] != self._state:
            self.log.warning("trading state %s -> %s (recorded by another process)", self._state, saved["to"])
            self._state = TradingState(saved["to"])
        return self._state

    def _change_state(self, state: TradingState, why: dict[str, str], at: datetime | None) -> None:
        before, self._state = self._state, state
        self.log.warning("trading state %s -> %s (%s)", before, state, why["reason"])
        self._record(EventType.RISK_STATE_CHANGED, {"from": str(before), "to": str(state), **why}, at)

    def replica(
        self,
        journal: RiskJournal,
        clock: Callable[[], datetime],
        sizer: PositionSizer | None = None,
        logger: logging.Logger = log,
    ) -> "LiveRiskManager":
        """The same rules with a fresh state, journal and clock (and optionally another sizer): what a backtest
        runs, so that the manager a caller holds is never changed by a simulation and a sweep can reuse it.
        The edge record starts as a copy of the caller's: a run seeded as a bot seeds its own (the trips of
        the history before it) sizes its first decisions as that bot would."""
        return LiveRiskManager(
            guards=self.guards,
            limits=self.limits,
            sizer=sizer or self.sizer,
            journal=journal,
            run_id=self.run_id,
            clock=clock,
            windows=self.windows,
            logger=logger,
            edge=copy.deepcopy(self.edge),
            regime_settings=self.regime_settings,
        )

    def _record(self, type: EventType, payload: dict[str, object], at: datetime | None) -> None:
        self.journal.append(type, payload, run_id=self.run_id, time=at or self.clock())
