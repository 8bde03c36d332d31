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
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import Executor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from gpttrader.brokers.errors import BrokerError
from gpttrader.brokers.protocol import Broker, EventSink, Stream
from gpttrader.config import BotConfig
from gpttrader.domain import Order, OrderStatus, Position, Product
from gpttrader.domain.events import EventType
from gpttrader.engine.account_check import require_known_account
from gpttrader.engine.clock import Clock
from gpttrader.engine.edge_seed import seed_edges
from gpttrader.engine.execution import OrderExecutor
from gpttrader.engine.execution_coordinator import ExecutionCoordinator
from gpttrader.engine.fee_tier import HIGHEST_TAKER, FeeTier
from gpttrader.engine.feed import FeedHandler
from gpttrader.engine.guard_feed import GuardFeed
from gpttrader.engine.kill import KillReport, close_out, engage_kill_switch
from gpttrader.engine.listing import listed_products
from gpttrader.engine.marks import MarkBook
from gpttrader.engine.reconcile import ReconcileReport, accept_books, check_positions, reconcile
from gpttrader.engine.reload import Reloader
from gpttrader.engine.skew import ClockSkew
from gpttrader.engine.state import BotState, BotSummary, OrderView, PositionView, SizingView
from gpttrader.engine.strategy_coordinator import StrategyCoordinator
from gpttrader.engine.telemetry import CycleMetrics, ExecutionTelemetry, write_metrics
from gpttrader.monitoring import (
    Alert,
    AlertBook,
    Banner,
    BotMetrics,
    Health,
    ResourceMonitor,
    banner,
    execution_health,
    freshness,
    webhook_delivery,
)
from gpttrader.risk import LiveRiskManager
from gpttrader.store import EventStore, OrdersStore
from gpttrader.strategy import OrderStrategy, Strategy

log = logging.getLogger(__name__)
# Builds the feed (`Broker.stream`) from the handler's sink of typed events; None: the broker has no stream.
StreamFactory = Callable[[EventSink], Stream | None]
WAKE_MARGIN = timedelta(seconds=1)  # after a bar's end, for the exchange to serve it closed


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
        self.guard_feed = GuardFeed(config, risk, broker, self.marks)
        self._moved: list[str] = []  # spot holdings the last reconciliation found moved outside the books
        # Re-reads the profile when asked (engine.reload); without a loader, a reload finds nothing changed.
        self.reloader = Reloader(reload_config or (lambda: config), events, run_id=run_id)
        # The account's rates, read at start and each hour (the broker's method looked up at each read).
        self.fee_tier = FeeTier(lambda: self.broker.fee_rates(), events, run_id=run_id)
        self._execution: ExecutionCoordinator | None = None
        self._strategy: StrategyCoordinator | None = None
        self.state: BotState | None = None  # as the last cycle (or the start) left the bot: engine.state

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
        self.guard_feed.deactivate_unfed(derivatives=self._derivatives)
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
        self.guard_feed.start(equity)
        self.events.append(
            EventType.BOT_STARTED,
            {
                "profile": self.config.profile,
                "strategy": self.strategy.name,
                "granularity": self.config.strategy.granularity.value,
                "symbols": list(self.config.symbols),
                "state": str(self.risk.state),
                "equity": equity,
                "warmup_bars": warmed,
                "multipliers": {pid: product.multiplier for pid, product in self.products.items()},
                "reconcile": report.as_dict(),
            },
            run_id=self.run_id,
            time=now,
        )
        self.read_state()
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

    def summary(self) -> BotSummary:
        """The run so far, from the bot's state (read now for a bot that never cycled)."""
        return (self.state or self.read_state()).summary()

    def read_state(self) -> BotState:
        """The bot as it stands now, kept as `state`: after an operator's action between two cycles (the
        panel shows a reduce-only switch or a kill at once, not at the next cycle)."""
        self.state = self._read_state(self.clock.now(), judge=False)
        return self.state

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
        self.events.append(EventType.BOT_PAUSED, {"operator": operator}, run_id=self.run_id, time=self.clock.now())

    def resume(self, *, operator: str) -> None:
        self._paused = False
        self.events.append(EventType.BOT_RESUMED, {"operator": operator}, run_id=self.run_id, time=self.clock.now())

    def shutdown(self) -> BotSummary:
        if self._stream is not None:
            self._stream.stop()
            self._stream = None
        if self.delivery is not None:
            self.delivery.close()  # the alerts queued go out (a few seconds at most), or are logged as not sent
        self.resources.loop_lag.unwatch()
        state = self.read_state()  # after the delivery's last attempts: its counts are final
        summary = state.summary()
        self.events.append(EventType.BOT_STOPPED, asdict(summary), run_id=self.run_id, time=state.at)
        write_metrics(self.metrics_path, state.metrics_payload())
        return summary

    def prepared_execution(self) -> ExecutionCoordinator:
        """The execution side, prepared if the bot never was: what a kill switch cancels and flattens through."""
        if self._execution is None:
            self.prepare()
        return self.execution

    def kill(self, *, operator: str, reason: str, flatten: bool = True) -> KillReport:
        """The kill switch: HALTED recorded first, then cancel and flatten until the exchange shows nothing
        left or `execution.kill_deadline_seconds` pass. Works on a bot never bootstrapped."""
        return engage_kill_switch(
            self.prepared_execution,
            self.risk,
            self.events,
            ids=self.config.client_ids,
            operator=operator,
            reason=reason,
            flatten=flatten,
            deadline_seconds=self.config.execution.kill_deadline_seconds,
            exclusive=self._kill_lock,
        )

    def close_out(self) -> KillReport:
        """A session's orderly end (the canary's): its orders cancelled and positions closed, with no halt."""
        return close_out(
            self.execution,
            ids=self.config.client_ids,
            flatten=True,
            stamp=f"close-{self.clock.now():%Y%m%dT%H%M%S}",
            deadline_seconds=self.config.execution.kill_deadline_seconds,
        )

    def accept_books(self, *, operator: str, reason: str) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
        """An operator's word that the account as it holds now is right (engine.reconcile.accept_books), after
        reading the fills the bot's store has not read yet: they are the bot's, not outside it."""
        self.prepare()
        self.execution.refresh_open()
        return accept_books(
            broker=self.broker,
            events=self.events,
            products=self.products,
            portfolio=self.execution.portfolio,
            operator=operator,
            reason=reason,
        )

    # -- one cycle ---------------------------------------------------------------------------------------
    def cycle(self) -> None:
        assert self._strategy is not None
        started = time.perf_counter()
        now = self.clock.now()
        execution = self.execution
        _, resynced = self.feed.take()  # every open order is read below; the feed only woke the loop for it
        if resynced:
            self.events.append(
                EventType.FEED_RESYNC, {"message": "feed reconnected or missed messages: all re-read"}, time=now
            )
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
            self.guard_feed.observe(now, execution, self._strategy, self._derivatives)
            self.guard_feed.cycle_done(now, ok=True)
        except BrokerError as exc:
            self.metrics.errors += 1
            self.guard_feed.cycle_done(now, ok=False)
            self.guard_feed.api_error(exc, now)
            log.warning("cycle at %s failed: %s", now.isoformat(), exc)
            self.events.append(EventType.BOT_CYCLE_ERROR, {"error": type(exc).__name__, "message": str(exc)}, time=now)
        except Exception as exc:
            # Not the exchange's: a strategy's bug, a store's failure. Recorded and counted like any error;
            # then the policy says whether the loop carries on or stops (and the session's kill switch
            # flattens: nothing watches the positions once the loop is gone).
            self.metrics.errors += 1
            self.guard_feed.cycle_done(now, ok=False)
            log.exception("cycle at %s failed", now.isoformat())
            self.events.append(
                EventType.BOT_CYCLE_ERROR,
                {"error": type(exc).__name__, "message": str(exc), "policy": self.config.execution.on_cycle_error},
                time=now,
            )
            if self.config.execution.on_cycle_error == "halt":
                raise
        for failed in execution.send_errors:
            self.guard_feed.api_error(failed, now)
        execution.send_errors.clear()
        self.metrics.cycles += 1
        self.metrics.last_cycle_ms = (time.perf_counter() - started) * 1000
        self.metrics.last_cycle_at = now
        self._publish(now)

    def _publish(self, now: datetime) -> None:
        """The cycle's one state (engine.state), built after the alert rules judged its health, and every
        view of the bot written from it."""
        self.state = state = self._read_state(now, judge=True)
        if state.counts.cycles % self.snapshot_every == 1:
            self.events.append(EventType.ACCOUNT_SNAPSHOT, state.account_payload(), run_id=self.run_id, time=now)
        write_metrics(self.metrics_path, state.metrics_payload())
        if self.monitor is not None:
            self.monitor.update(state.snapshot())

    @property
    def _derivatives(self) -> bool:
        return any(p.is_derivative for p in self.products.values())

    def _read_state(self, now: datetime, *, judge: bool) -> BotState:
        """The bot as it stands (engine.state), its books read once for the state and its health; with
        `judge` (a cycle's end), the alert rules judge that health before the state takes their alerts. A
        bot never prepared has no books to judge."""
        execution = self._execution
        open_orders = self.orders.open_orders()
        positions = {} if execution is None else execution.positions()
        equity = None if execution is None else execution.equity()
        health = None
        if execution is not None and equity is not None:
            health = self._health(now, execution, open_orders, positions, equity)
            if judge:
                self.alerts.evaluate(health, now)
        holdings = () if execution is None else tuple(execution.portfolio.holdings.values())
        sizing = self.config.sizing
        return BotState(
            profile=self.config.profile,
            at=now,
            counts=replace(self.metrics),
            trading_state=str(self.risk.state),
            paused=self._paused,
            config_version=self.reloader.version,
            equity=equity,
            cash=Decimal(0) if execution is None else execution.portfolio.cash,
            realized=sum((h.realized_pnl for h in holdings), Decimal(0)),
            unrealized=sum((p.unrealized_pnl for p in positions.values()), Decimal(0)),
            fees=Decimal(0) if execution is None else execution.portfolio.fees_paid,
            positions=tuple(
                PositionView(pid, p.size, p.entry_price, p.mark_price, p.unrealized_pnl, p.realized_pnl)
                for pid, p in sorted(positions.items())
            ),
            orders=tuple(
                OrderView(
                    o.client_order_id,
                    o.request.product_id,
                    o.request.side.value,
                    o.request.order_type.value,
                    o.request.size,
                    o.filled_size,
                    o.request.limit_price,
                    o.status.value,
                    (now - o.created_at).total_seconds(),
                )
                for o in open_orders
            ),
            marks=self.marks.prices(),
            mark_ages={pid: self.marks.age(pid, now) for pid in self.config.symbols},
            guards=tuple(self.risk.readings()),
            risk_counters=dict(self.risk.counters),
            execution=self.telemetry.as_dict(),
            resources=self.resources.sample(),
            alert_delivery=None if self.delivery is None else self.delivery.stats(),
            health=health or Health(running=not self._stop.is_set(), state=str(self.risk.state)),
            banner=None if health is None else self._banner(now, health),
            alerts=tuple(reversed(self.alerts.history)),
            active_alerts=self.alerts.active,
            sizing=SizingView(
                method=sizing.method,
                min_trades=sizing.kelly_min_trades,
                floor_fraction=sizing.kelly_floor_fraction,
                edges=tuple(self.risk.edge.estimates(now)),
                regimes=tuple((pid, regime.value) for pid, regime in sorted(self.risk.regimes.items())),
                fees=self.fee_tier.rates,
            ),
        )

    def health(self, now: datetime) -> Health:
        """What the alert rules look at, from the bot's own state and stores."""
        execution = self.execution
        return self._health(now, execution, self.orders.open_orders(), execution.positions(), execution.equity())

    def _health(
        self,
        now: datetime,
        execution: ExecutionCoordinator,
        open_orders: Sequence[Order],
        positions: Mapping[str, Position],
        equity: Decimal,
    ) -> Health:
        stream_health = getattr(self._stream, "health", None)
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
            equity=float(equity),
            daily_loss=self.guard_feed.daily_loss,
            daily_loss_limit=float(guard.limit) if guard.enabled else 0.0,
            unrealized_pnl={pid: float(p.unrealized_pnl) for pid, p in positions.items()},
            open_order_ages={o.client_order_id: (now - o.created_at).total_seconds() for o in open_orders},
            bar_seconds=float(self.config.strategy.granularity.seconds),
            failed_orders=sum(o.status in (OrderStatus.FAILED, OrderStatus.REJECTED) for o in recent),
            expired_orders=sum(o.status is OrderStatus.EXPIRED for o in recent),
            malformed=dict.fromkeys(self.guard_feed.malformed_endpoints(now), 1),
            unresolved_orders={o.client_order_id: o.product_id for o in open_orders if o.status.is_unresolved},
            unexplained_fills=execution.unexplained_fills,
            unmet_targets=dict(execution.unmet),
            unmet_alert_bars=self.config.execution.target_unmet_alert_bars,
            unprotected=dict(execution.exits.unprotected),
            holdings_moved=tuple(self._moved),
        )

    def _banner(self, now: datetime, health: Health) -> Banner | None:
        """The one line the panel shows on top: the feed reconnecting, the exchange failing calls within the
        API-error window, execution health, or the oldest mark's freshness."""
        oldest = max((self.marks.age(pid, now) for pid in self.config.symbols), default=0.0)
        return banner(
            reconnecting=not health.connected,
            degraded=self.guard_feed.recent_api_errors > 0,
            execution=execution_health(health.success_rate, breaker_open=health.state != "active"),
            data=freshness(oldest, connection_healthy=health.connected),
            malformed=sorted(health.malformed),
        )

    def _deliver(self, alert: Alert) -> None:
        """An alert to the log and the event store (the panel reads `alerts.history`)."""
        level = logging.CRITICAL if alert.severity == "critical" else logging.WARNING
        log.log(level, "alert %s: %s (%s)", alert.rule, alert.message, alert.hint)
        self.events.append(
            EventType.ALERT,
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
        pools = self.broker.cash(derivatives=self._derivatives)
        self.execution.portfolio.cash = sum((pools.get(c, Decimal(0)) for c in quote_currencies), Decimal(0))
        self.execution.available = self.executor.venue_available()

    def request_reload(self) -> None:
        """SIGHUP's handler: the profile is re-read at the next cycle (engine.reload)."""
        self.reloader.signal()
        self._wake.set()

    def _reload(self, now: datetime) -> None:
        taken = self.reloader.take(self.config, now)
        if taken is not None:
            self.config = self.guard_feed.config = taken
            self.risk.reconfigure(taken)

    def _refresh_fee_tier(self, now: datetime) -> None:
        """The account's fee rates at start and hourly on the bot's clock (engine.fee_tier): sizing budgets a
        buy's fee at the taker rate. A read that fails counts as an API error and is tried again next cycle;
        meanwhile the last rates hold, or before any, the highest tier's (never a rate that flatters a trade:
        the bot keeps working, exits included)."""
        try:
            changed = self.fee_tier.refresh(now)
        except BrokerError as exc:
            self.guard_feed.api_error(exc, now)
            if self.fee_tier.rates is None:
                self.fee_rate = self.execution.fee_rate = max(self.fee_rate, HIGHEST_TAKER)
            log.warning(
                "fee tier not read at %s; sizing at a taker rate of %s: %s", now.isoformat(), self.fee_rate, exc
            )
            return
        if changed is not None:
            self.fee_rate = self.execution.fee_rate = changed.taker

    def _next_cycle(self, now: datetime) -> datetime:
        """The next interval boundary on the exchange's clock, a second late so that the bar that just closed
        there is served, told on the bot's clock (later by the measured skew when the bot runs ahead)."""
        interval = self.config.interval_seconds
        ahead = timedelta(0) if self._strategy is None else self._strategy.skew.ahead
        exchange = (now - ahead).timestamp()
        boundary = datetime.fromtimestamp((exchange // interval + 1) * interval, tz=now.tzinfo)
        return boundary + ahead + WAKE_MARGIN
