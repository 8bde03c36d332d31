"""`TradingBot`: the engine that runs a backtest's strategy, risk and execution code on a wall clock
against a live feed (or on a fast clock against the deterministic broker).

Lifecycle: `bootstrap` (products, the account, reconciliation, the strategy warmed up), `run` (one cycle
per interval until stopped or a bound is reached), `shutdown` (metrics and a final event flushed). A cycle:
marks, then the orders working since the last cycle (their fills), then the bars that closed (the
strategy's decisions, each through the risk manager to the executor), then the guards and telemetry.
"""

import asyncio
import logging
import math
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import Executor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from gpttrader.brokers.errors import BrokerError, MalformedAnswerError
from gpttrader.brokers.protocol import Broker, EventSink, Stream
from gpttrader.config import BotConfig
from gpttrader.domain import OrderStatus, Product
from gpttrader.engine.account_check import require_known_account
from gpttrader.engine.clock import Clock
from gpttrader.engine.correlation import MarkReturns
from gpttrader.engine.edge_seed import seed_edges
from gpttrader.engine.execution import OrderExecutor
from gpttrader.engine.execution_coordinator import BOOK_LEVELS, ExecutionCoordinator
from gpttrader.engine.fee_tier import HIGHEST_TAKER, FeeTier
from gpttrader.engine.feed import FeedHandler
from gpttrader.engine.kill import KillReport, engage_kill_switch
from gpttrader.engine.listing import listed_products
from gpttrader.engine.marks import MarkBook
from gpttrader.engine.reconcile import ReconcileReport, check_positions, reconcile
from gpttrader.engine.reload import Reloader
from gpttrader.engine.skew import ClockSkew
from gpttrader.engine.strategy_coordinator import StrategyCoordinator
from gpttrader.engine.telemetry import CycleMetrics, ExecutionTelemetry, write_metrics
from gpttrader.monitoring import (
    Alert,
    AlertBook,
    Banner,
    BotMetrics,
    Health,
    ResourceMonitor,
    Snapshot,
    banner,
    execution_health,
    freshness,
    webhook_delivery,
)
from gpttrader.risk import LiveRiskManager
from gpttrader.risk.metrics import (
    DEPTH_BAND_BPS,
    NS,
    EquityTracker,
    ErrorCount,
    ErrorRate,
    LossStreak,
    liquidation_buffer_share,
)
from gpttrader.store import EventStore, OrdersStore
from gpttrader.strategy import OrderStrategy, Strategy

log = logging.getLogger(__name__)
# Builds the feed (`Broker.stream`) from the handler's sink of typed events; None: the broker has no stream.
StreamFactory = Callable[[EventSink], Stream | None]
WAKE_MARGIN = timedelta(seconds=1)  # after a bar's end, for the exchange to serve it closed


@dataclass
class BotSummary:
    profile: str
    cycles: int
    bars: int
    decisions: int
    orders: int
    rejected: int
    fills: int
    errors: int
    state: str
    equity: str
    positions: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        held = ", ".join(f"{pid} {size}" for pid, size in self.positions.items()) or "flat"
        return [
            f"profile {self.profile}: {self.cycles} cycles, {self.bars} bars, {self.decisions} decisions, "
            f"{self.orders} orders ({self.rejected} refused by risk), {self.fills} fills, {self.errors} errors",
            f"trading state {self.state}, equity {self.equity}, positions: {held}",
        ]


class TradingBot:
    def __init__(
        self,
        *,
        config: BotConfig,
        broker: Broker,
        strategy: Strategy | OrderStrategy,
        risk: LiveRiskManager,
        orders: OrdersStore,
        events: EventStore,
        clock: Clock,
        fee_rate: Decimal,
        retries: Callable[[], int] = lambda: 0,
        rate_limited: Callable[[], int] = lambda: 0,
        run_id: str | None = None,
        snapshot_every: int = 10,
        stream: StreamFactory | None = None,
        channels: Sequence[str] = ("ticker",),
        monitor: BotMetrics | None = None,
        kill_lock: Callable[[float], AbstractContextManager[object]] = lambda wait: nullcontext(),
        send_gate: Callable[[], AbstractContextManager[object]] = nullcontext,
        reload_config: Callable[[], BotConfig] | None = None,
    ) -> None:
        self.config, self.broker, self.strategy, self.risk = config, broker, strategy, risk
        self.orders, self.events, self.clock, self.run_id = orders, events, clock, run_id
        self.fee_rate, self.snapshot_every = fee_rate, snapshot_every
        self.marks = MarkBook()
        self.metrics = CycleMetrics()
        self.telemetry = ExecutionTelemetry(retries=retries)
        self._rate_limited = rate_limited
        self.executor = OrderExecutor(broker, orders, events, run_id=run_id, now=clock.now)
        self.metrics_path: Path = config.state_dir / "metrics.json"
        self.products: dict[str, Product] = {}
        self._stop = threading.Event()
        self._paused = False
        self._wake = threading.Event()  # set by stop() and by the feed (a bar closed, an order changed)
        self.feed = FeedHandler(self.marks, self._wake)
        self._stream_factory, self._channels = stream, tuple(channels)
        self._stream: Stream | None = None
        self.monitor = monitor
        self._kill_lock = kill_lock  # one kill switch at a time per profile, this one or the command line's
        self._send_gate = send_gate  # each send waits for a kill switch at work (app.profile_lock.SendGate)
        self.alerts = AlertBook(sink=self._deliver)
        self.delivery = webhook_delivery(config.alerts, profile=config.profile)  # None: no webhook configured
        self.resources = ResourceMonitor(config.state_dir)  # CPU, memory, files, threads, loop lag, store size
        self._daily_loss = 0.0
        self._error_rate = ErrorRate(config.risk.error_rate_window)
        self._api_errors = ErrorCount(config.risk.api_error_window_seconds)
        self._recent_api_errors = 0
        self._malformed: dict[str, datetime] = {}  # endpoint -> when it last answered malformed
        self._moved: list[str] = []  # spot holdings the last reconciliation found moved outside the books
        self._streak = LossStreak()
        self._returns = MarkReturns(list(config.symbols), config.risk.correlation_window)
        # The account's rates, read at start and each hour (the broker's method looked up at each read).
        # Re-reads the profile when asked (engine.reload); without a loader, a reload finds nothing changed.
        self.reloader = Reloader(reload_config or (lambda: config), events, run_id=run_id)
        self.fee_tier = FeeTier(lambda: self.broker.fee_rates(), events, run_id=run_id)
        self._equity: EquityTracker | None = None
        self._execution: ExecutionCoordinator | None = None
        self._strategy: StrategyCoordinator | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------
    @property
    def execution(self) -> ExecutionCoordinator:
        if self._execution is None:
            raise RuntimeError("the bot has not been bootstrapped")
        return self._execution

    def prepare(self) -> None:
        """Products, the coordinators, marks, cash and the bot's positions from its fills: enough to act
        (the kill switch), without reconciling or warming the strategy up."""
        now = self.clock.now()
        self.products = listed_products(self.broker, self.config.symbols)  # an unlisted one: the nearest named
        self._deactivate_unfed()
        self._execution = ExecutionCoordinator(
            executor=self.executor,
            orders=self.orders,
            events=self.events,
            risk=self.risk,
            products=self.products,
            marks=self.marks,
            settings=self.config.execution,
            fee_rate=self.fee_rate,
            telemetry=self.telemetry,
            metrics=self.metrics,
            strategy_name=self.strategy.name,
            ids=self.config.client_ids,
            clock_now=self.clock.now,
            send_gate=self._send_gate,
            margin=self.broker.margin_summary,
            bar=self.config.strategy.granularity.width,
            run_id=self.run_id,
        )
        self._strategy = StrategyCoordinator(
            self.strategy,
            self.broker,
            self.config.symbols,
            self.config.risk.volatility_window,
            granularity=self.config.strategy.granularity,
            skew=ClockSkew(self.broker.server_time, self.clock.now),
            events=self.events,
            run_id=self.run_id,
        )
        self._refresh_marks(now, force=True)
        self._refresh_cash()
        self.execution.absorb_fills()

    def bootstrap(self) -> ReconcileReport:
        require_known_account(
            self.config.profile, self.broker, self.events, self.config.symbols, self.config.client_ids
        )
        self.prepare()
        assert self._strategy is not None
        assert self._execution is not None
        now = self.clock.now()
        report = self.reconcile()
        self._refresh_fee_tier(now)  # the seed's trips are priced as the account's own would be
        seed_edges(
            self.broker,
            self.risk,
            self._strategy,
            self.products,
            sizing=self.config.sizing,
            fee_rate=self.fee_rate,
            now=now,
            live_since=min((f.time for f in self.orders.fills()), default=None),
            run_id=self.run_id,
        )
        warmed = self._strategy.warm_up(now)
        if self._stream_factory is not None:
            self._stream = self._stream_factory(self.feed.on_event)
            if self._stream is not None:
                self._stream.start(self.config.symbols, self._channels)
        equity = self._execution.equity()
        self._equity = EquityTracker(float(equity))
        self.events.append(
            "bot.started",
            {
                "profile": self.config.profile,
                "strategy": self.strategy.name,
                "granularity": self.config.strategy.granularity.value,
                "symbols": list(self.config.symbols),
                "state": str(self.risk.state),
                "equity": equity,
                "warmup_bars": warmed,
                "reconcile": report.as_dict(),
            },
            run_id=self.run_id,
            time=now,
        )
        return report

    def reconcile(self) -> ReconcileReport:
        execution = self.execution
        with execution.lock:
            report = reconcile(
                broker=self.broker,
                executor=self.executor,
                orders=self.orders,
                events=self.events,
                risk=self.risk,
                products=self.products,
                portfolio=execution.portfolio,
                unknown_orders=self.config.execution.unknown_orders,
                ids=self.config.client_ids,
                run_id=self.run_id,
            )
            execution.absorb_fills()
            checked = check_positions(
                broker=self.broker,
                risk=self.risk,
                events=self.events,
                products=self.products,
                portfolio=execution.portfolio,
                report=report,
                profile=self.config.profile,
                settle=execution.refresh_open,
                shared=self.config.execution.shared_account,
                run_id=self.run_id,
            )
            self._moved = list(checked.moved)
            return checked

    def run(self, *, max_cycles: int | None = None) -> BotSummary:
        """Cycle until stopped (`stop()`, a signal) or after `max_cycles`."""
        while not self._stop.is_set():
            self.cycle()
            if not self._wait_for_next_cycle(max_cycles):
                break
        return self.summary()

    async def cycles(self, worker: Executor, *, max_cycles: int | None = None) -> AsyncIterator[int]:
        """The same loop as `run`, as a task on a running asyncio loop (a Jupyter kernel's): each cycle runs
        on `worker` (one thread, so that an operator's action sent there never runs inside a cycle) and the
        wait between cycles on the loop's default executor, so the loop itself never blocks. Yields the
        cycle count after each cycle, for a front end to refresh its view."""
        loop = asyncio.get_running_loop()
        self.resources.loop_lag.watch(loop)  # the lag of this loop (a kernel's) goes to the metrics
        while not self._stop.is_set():
            await loop.run_in_executor(worker, self.cycle)
            yield self.metrics.cycles
            if not await loop.run_in_executor(None, self._wait_for_next_cycle, max_cycles):
                return

    def _wait_for_next_cycle(self, max_cycles: int | None) -> bool:
        """Whether another cycle is due, after waiting for its time (the feed or `stop()` may wake it early)."""
        if self._stop.is_set() or (max_cycles is not None and self.metrics.cycles >= max_cycles):
            return False
        self._wake.clear()
        self.clock.sleep_until(self._next_cycle(self.clock.now()), self._wake)
        return not self._stop.is_set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self, *, operator: str) -> None:
        """Stop acting on the strategy's decisions; marks, fills, guards and alerts go on, so a paused bot is
        still watched, and its working orders (brackets included) still work. Recorded."""
        self._paused = True
        self.events.append("bot.paused", {"operator": operator}, run_id=self.run_id, time=self.clock.now())

    def resume(self, *, operator: str) -> None:
        self._paused = False
        self.events.append("bot.resumed", {"operator": operator}, run_id=self.run_id, time=self.clock.now())

    def shutdown(self) -> BotSummary:
        if self._stream is not None:
            self._stream.stop()
            self._stream = None
        summary = self.summary()
        self.events.append("bot.stopped", asdict(summary), run_id=self.run_id, time=self.clock.now())
        if self.delivery is not None:
            self.delivery.close()  # the alerts queued go out (a few seconds at most), or are logged as not sent
        self.resources.loop_lag.unwatch()
        self._write_metrics()
        return summary

    def kill(self, *, operator: str, reason: str, flatten: bool = True) -> KillReport:
        """The kill switch: HALTED recorded first, then cancel and flatten until the exchange shows nothing
        left or `execution.kill_deadline_seconds` pass. Works on a bot never bootstrapped (the CLI's kill)."""

        def prepared() -> ExecutionCoordinator:
            if self._execution is None:
                self.prepare()
            return self.execution

        return engage_kill_switch(
            prepared,
            self.risk,
            self.events,
            ids=self.config.client_ids,
            operator=operator,
            reason=reason,
            flatten=flatten,
            deadline_seconds=self.config.execution.kill_deadline_seconds,
            exclusive=self._kill_lock,
        )

    # -- one cycle ---------------------------------------------------------------------------------------
    def cycle(self) -> None:
        assert self._strategy is not None
        started = time.perf_counter()
        now = self.clock.now()
        execution = self.execution
        _, resynced = self.feed.take()  # every open order is read below; the feed only woke the loop for it
        if resynced:
            self.events.append("feed.resync", {"message": "feed reconnected or missed messages: all re-read"}, time=now)
            self._refresh_marks(now, force=True)
        execution.signal_at, self.feed.bar_closed_at = self.feed.bar_closed_at, None
        self.risk.reload_state()  # a halt recorded by another process (`gpttrader kill`) holds from this cycle
        try:
            # Decide first: a closed bar is acted on with the marks the feed keeps fresh and the cash the
            # last cycle read; bookkeeping reads come after the orders are out.
            self._reload(now)
            self._refresh_fee_tier(now)
            self._refresh_marks(now)
            decided = self._strategy.new_bars(now)
            execution.bars_at = time.perf_counter()
            for bar, decision in decided:
                self.metrics.bars += 1
                if decision and not self._paused:
                    execution.act(bar, decision, now)
            execution.refresh()
            self._refresh_cash()
            if self.metrics.cycles % self.config.execution.reconcile_every_cycles == 0 and self.metrics.cycles:
                self.reconcile()
            self._observe_guards(now)
            self.risk.observe("error_rate", self._error_rate.record(True), now)
        except BrokerError as exc:
            self.metrics.errors += 1
            rate = self._error_rate.record(False)
            self.risk.observe("error_rate", rate, now)
            self._api_error(exc, now)
            log.warning("cycle at %s failed: %s", now.isoformat(), exc)
            self.events.append("bot.cycle_error", {"error": type(exc).__name__, "message": str(exc)}, time=now)
        except Exception as exc:
            # Not the exchange's: a strategy's bug, a store's failure. Recorded and counted like any error;
            # then the policy says whether the loop carries on or stops (and the session's kill switch
            # flattens: nothing watches the positions once the loop is gone).
            self.metrics.errors += 1
            self.risk.observe("error_rate", self._error_rate.record(False), now)
            log.exception("cycle at %s failed", now.isoformat())
            self.events.append(
                "bot.cycle_error",
                {"error": type(exc).__name__, "message": str(exc), "policy": self.config.execution.on_cycle_error},
                time=now,
            )
            if self.config.execution.on_cycle_error == "halt":
                raise
        for failed in execution.send_errors:
            self._api_error(failed, now)
        execution.send_errors.clear()
        self.metrics.cycles += 1
        self.metrics.last_cycle_ms = (time.perf_counter() - started) * 1000
        self.metrics.last_cycle_at = now
        if self.metrics.cycles % self.snapshot_every == 1:
            self._snapshot(now)
        self._write_metrics()
        if self.monitor is not None:
            self.monitor.update(self.monitoring_snapshot(now))
        if self._execution is not None:
            self.alerts.evaluate(self.health(now), now)

    def _api_error(self, exc: BrokerError, now: datetime) -> None:
        """An exchange call that failed counts toward the API-error guard; a malformed answer is also kept by
        endpoint for the alert and the banner."""
        if isinstance(exc, MalformedAnswerError):
            self._malformed[exc.endpoint or "Coinbase"] = now
        self._recent_api_errors = self._api_errors.record(now, error=True)
        self.risk.observe("api_errors", self._recent_api_errors, now)

    def malformed_endpoints(self, now: datetime) -> list[str]:
        """Endpoints that answered malformed within the API-error window."""
        window = timedelta(seconds=self.config.risk.api_error_window_seconds)
        return sorted(e for e, at in self._malformed.items() if now - at <= window)

    def health(self, now: datetime) -> Health:
        """What the alert rules look at, from the bot's own state and stores."""
        execution = self.execution
        stream_health = getattr(self._stream, "health", None)
        open_orders = self.orders.open_orders()
        hour_ago = now - timedelta(hours=1)
        recent = [o for o in self.orders.all_orders() if o.updated_at >= hour_ago]
        guard = self.config.guards.daily_loss
        return Health(
            running=not self._stop.is_set(),
            connected=True if stream_health is None else bool(stream_health.connected),
            state=str(self.risk.state),
            success_rate=self.telemetry.success_rate,
            latency_p95_ms=0.0 if math.isnan(p95 := self.telemetry.percentile(95)) else p95,
            retries_per_order=self.telemetry.retries() / max(self.metrics.orders, 1),
            rate_limited=self._rate_limited(),
            equity=float(execution.equity()),
            daily_loss=self._daily_loss,
            daily_loss_limit=float(guard.limit) if guard.enabled else 0.0,
            unrealized_pnl={pid: float(p.unrealized_pnl) for pid, p in execution.positions().items()},
            open_order_ages={o.client_order_id: (now - o.created_at).total_seconds() for o in open_orders},
            bar_seconds=float(self.config.strategy.granularity.seconds),
            failed_orders=sum(o.status in (OrderStatus.FAILED, OrderStatus.REJECTED) for o in recent),
            expired_orders=sum(o.status is OrderStatus.EXPIRED for o in recent),
            malformed=dict.fromkeys(self.malformed_endpoints(now), 1),
            unresolved_orders={o.client_order_id: o.product_id for o in open_orders if o.status.is_unresolved},
            unexplained_fills=execution.unexplained_fills,
            unmet_targets=dict(execution.unmet),
            unmet_alert_bars=self.config.execution.target_unmet_alert_bars,
            unprotected=dict(execution.exits.unprotected),
            holdings_moved=tuple(self._moved),
        )

    def banner(self, now: datetime, health: Health) -> Banner | None:
        """The one line the panel shows on top: the feed reconnecting, the exchange failing calls within the
        API-error window, execution health, or the oldest mark's freshness."""
        oldest = max((self.marks.age(pid, now) for pid in self.config.symbols), default=0.0)
        return banner(
            reconnecting=not health.connected,
            degraded=self._recent_api_errors > 0,
            execution=execution_health(health.success_rate, breaker_open=health.state != "active"),
            data=freshness(oldest, connection_healthy=health.connected),
            malformed=sorted(health.malformed),
        )

    def _deliver(self, alert: Alert) -> None:
        """An alert to the log and the event store (the panel reads `alerts.history`)."""
        level = logging.CRITICAL if alert.severity == "critical" else logging.WARNING
        log.log(level, "alert %s: %s (%s)", alert.rule, alert.message, alert.hint)
        self.events.append(
            "alert",
            {
                "rule": alert.rule,
                "category": alert.category,
                "severity": alert.severity,
                "message": alert.message,
                "hint": alert.hint,
            },
            run_id=self.run_id,
            time=alert.at,
        )
        if self.delivery is not None:  # queued: a slow or dead webhook never holds up the cycle
            self.delivery.submit(alert)

    def monitoring_snapshot(self, now: datetime) -> Snapshot:
        """The bot's state as plain numbers, for the Prometheus registry (and the panel)."""
        execution = self.execution
        positions = execution.positions()
        telemetry = {
            name: float(value)
            for name, value in self.telemetry.as_dict().items()
            if isinstance(value, int | float) and math.isfinite(value)
        }
        return Snapshot(
            self.config.profile,
            self.metrics.cycles,
            self.metrics.bars,
            self.metrics.decisions,
            self.metrics.orders,
            self.metrics.rejected,
            self.metrics.fills,
            self.metrics.errors,
            self.metrics.last_cycle_ms / 1000,
            float(execution.equity()),
            float(execution.portfolio.cash),
            str(self.risk.state),
            {pid: float(p.size) for pid, p in positions.items()},
            {pid: float(p.unrealized_pnl) for pid, p in positions.items()},
            {pid: min(self.marks.age(pid, now), 1e9) for pid in self.config.symbols},
            {name: float(count) for name, count in self.risk.counters.items()},
            telemetry,
            resources=self.resources.sample(),
            alert_delivery={}
            if self.delivery is None
            else {k: float(v) for k, v in self.delivery.stats().items() if isinstance(v, int)},
        )

    def _refresh_marks(self, now: datetime, *, force: bool = False) -> None:
        """A REST quote for every product whose mark the feed has not refreshed within half an interval."""
        for pid in self.config.symbols:
            if force or self.marks.age(pid, now) > self.config.interval_seconds / 2:
                quote = self.broker.quote(pid)
                self.marks.update(pid, quote.mid, quote.time)

    def _refresh_cash(self) -> None:
        """The bot's cash: the account's money in the currencies its products are quoted in, derivatives
        collateral included (where their realized PnL and funding settle), for its equity; and what each
        currency has available (total less the exchange's holds), which is what a buy may spend."""
        quote_currencies = {p.quote_currency for p in self.products.values()}
        pools = self.broker.cash(derivatives=any(p.is_derivative for p in self.products.values()))
        self.execution.portfolio.cash = sum((pools.get(c, Decimal(0)) for c in quote_currencies), Decimal(0))
        self.execution.available = self.executor.venue_available()

    def request_reload(self) -> None:
        """SIGHUP's handler: the profile is re-read at the next cycle (engine.reload)."""
        self.reloader.signal()
        self._wake.set()

    def _reload(self, now: datetime) -> None:
        taken = self.reloader.take(self.config, now)
        if taken is not None:
            self.config = taken
            self.risk.reconfigure(taken)

    def _refresh_fee_tier(self, now: datetime) -> None:
        """The account's fee rates at start and hourly on the bot's clock (engine.fee_tier): sizing budgets a
        buy's fee at the taker rate. A read that fails counts as an API error and is tried again next cycle;
        meanwhile the last rates hold, or before any, the highest tier's (never a rate that flatters a trade:
        the bot keeps working, exits included)."""
        try:
            changed = self.fee_tier.refresh(now)
        except BrokerError as exc:
            self._api_error(exc, now)
            if self.fee_tier.rates is None:
                self.fee_rate = self.execution.fee_rate = max(self.fee_rate, HIGHEST_TAKER)
            log.warning(
                "fee tier not read at %s; sizing at a taker rate of %s: %s", now.isoformat(), self.fee_rate, exc
            )
            return
        if changed is not None:
            self.fee_rate = self.execution.fee_rate = changed.taker

    def _observe_guards(self, now: datetime) -> None:
        assert self._equity is not None
        assert self._strategy is not None
        equity = float(self.execution.equity())
        stamp = np.array([int(now.timestamp() * NS)], dtype=np.int64)
        for metric, values in self._equity.update(stamp, np.array([equity])).items():
            self.risk.observe(metric, float(values[0]), now)
            if metric == "daily_loss":
                self._daily_loss = float(values[0])
        for pid in self.config.symbols:
            age = self.marks.age(pid, now)
            self.risk.observe("mark_age_seconds", age if math.isfinite(age) else 1e9, now, pid)
            self.risk.observe("volatility", self._strategy.volatility(pid), now, pid)
        trips = self.execution.closed_trips
        for count in self._streak.update(float(t) for t in trips):
            self.risk.observe("consecutive_losses", count, now)
        trips.clear()
        self.risk.observe("consecutive_losses", self._streak.count, now)  # the streak as it stands, read every cycle
        self._recent_api_errors = self._api_errors.record(now, error=False)
        self.risk.observe("api_errors", self._recent_api_errors, now)
        if any(p.is_derivative for p in self.products.values()):
            summary = self.broker.margin_summary()
            if summary is not None:
                buffer = liquidation_buffer_share(summary.liquidation_buffer, summary.total_balance)
                self.risk.observe("liquidation_buffer", buffer, now)
        self._observe_concentration(now)
        self._observe_books(now)

    def _deactivate_unfed(self) -> None:
        """Every enabled guard is fed each cycle (`_observe_guards`) but one that cannot apply to what this bot
        trades, which is switched off for the run, recorded, rather than shown as watching."""
        if not any(p.is_derivative for p in self.products.values()):
            self.risk.deactivate("liquidation_buffer", "no derivatives traded: there is no margin to watch")

    def _observe_concentration(self, now: datetime) -> None:
        marks = self.marks.prices()
        self._returns.sample(marks)
        positions = self.execution.positions()
        notional = {pid: p.size * p.mark_price * p.multiplier for pid, p in positions.items()}
        self.risk.observe("concentration", self._returns.concentration(notional, self.execution.equity()), now)

    def _observe_books(self, now: datetime) -> None:
        """The spread and depth guards read each product's book (REST: the same levels the impact check
        walks), only while one of them is enabled."""
        if not {"spread_bps", "depth"} & self.risk.metrics():
            return
        for pid in self.config.symbols:
            try:
                book = self.broker.order_book(pid, BOOK_LEVELS)
            except BrokerError as exc:  # one product's book: an API error, never the others' guards or the cycle
                self._api_error(exc, now)
                log.warning("the book of %s could not be read for the spread and depth guards: %s", pid, exc)
                continue
            self.risk.observe("spread_bps", book.spread_bps, now, pid)
            self.risk.observe("depth", book.depth(DEPTH_BAND_BPS), now, pid)

    def _snapshot(self, now: datetime) -> None:
        execution = self.execution
        self.events.append(
            "account.snapshot",
            {
                "equity": execution.equity(),
                "cash": execution.portfolio.cash,
                "positions": {pid: str(p.size) for pid, p in execution.positions().items()},
                "marks": self.marks.prices(),
                "state": str(self.risk.state),
            },
            run_id=self.run_id,
            time=now,
        )

    def _next_cycle(self, now: datetime) -> datetime:
        """The next interval boundary on the exchange's clock, a second late so that the bar that just closed
        there is served, told on the bot's clock (later by the measured skew when the bot runs ahead)."""
        interval = self.config.interval_seconds
        ahead = timedelta(0) if self._strategy is None else self._strategy.skew.ahead
        exchange = (now - ahead).timestamp()
        boundary = datetime.fromtimestamp((exchange // interval + 1) * interval, tz=now.tzinfo)
        return boundary + ahead + WAKE_MARGIN

    def summary(self) -> BotSummary:
        execution = self._execution
        positions = {} if execution is None else {pid: str(p.size) for pid, p in execution.positions().items()}
        return BotSummary(
            self.config.profile,
            self.metrics.cycles,
            self.metrics.bars,
            self.metrics.decisions,
            self.metrics.orders,
            self.metrics.rejected,
            self.metrics.fills,
            self.metrics.errors,
            str(self.risk.state),
            "n/a" if execution is None else f"{execution.equity():.2f}",
            positions,
        )

    def _write_metrics(self) -> None:
        payload: dict[str, Any] = {
            "profile": self.config.profile,
            "cycle": asdict(self.metrics),
            "execution": self.telemetry.as_dict(),
            "state": str(self.risk.state),
            "risk_counters": dict(self.risk.counters),
            "resources": self.resources.sample().as_dict(),
            "alert_delivery": None if self.delivery is None else self.delivery.stats(),
            # Each guard's last reading and when it was taken: `gpttrader risk show` prints their ages.
            "guards": [
                {
                    "guard": r.guard,
                    "scope": r.scope,
                    "value": r.value,
                    "level": r.level.name.lower(),
                    "at": None if r.at is None else r.at.isoformat(),
                }
                for r in self.risk.readings()
            ],
        }
        if self._execution is not None:
            payload["equity"] = str(self._execution.equity())
            payload["positions"] = {pid: str(p.size) for pid, p in self._execution.positions().items()}
        write_metrics(self.metrics_path, payload)
