"""`TradingBot`: the engine that runs a backtest's strategy, risk and execution code on a wall clock
against a live feed (or on a fast clock against the deterministic broker).

Lifecycle: `bootstrap` (products, the account, reconciliation, the strategy warmed up), `run` (one cycle
per interval until stopped or a bound is reached), `shutdown` (metrics and a final event flushed). A cycle:
marks, then the orders working since the last cycle (their fills), then the bars that closed (the
strategy's decisions, each through the risk manager to the executor), then the guards and telemetry.

The bot composes the parts and drives them; each part has one job: `RunControl` (stop, pause, the wait
between cycles), `AccountRefresh` (marks, cash, the fee tier), the strategy and execution coordinators,
`StateReader` (the one state, its health and banner), `StatePublisher` (every view written from that state)
and `AlertSink` (where alerts go).
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import Executor
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from gpttrader.brokers.errors import BrokerError
from gpttrader.brokers.protocol import Broker, EventSink, Stream
from gpttrader.config import BotConfig
from gpttrader.domain import Product
from gpttrader.domain.events import EventType
from gpttrader.engine.account_check import require_known_account
from gpttrader.engine.alert_sink import AlertSink
from gpttrader.engine.clock import Clock
from gpttrader.engine.cycle_state import StateReader
from gpttrader.engine.edge_seed import seed_edges
from gpttrader.engine.execution import OrderExecutor
from gpttrader.engine.execution_coordinator import ExecutionCoordinator
from gpttrader.engine.fee_tier import FeeTier
from gpttrader.engine.feed import FeedHandler
from gpttrader.engine.guard_feed import GuardFeed
from gpttrader.engine.kill import KillReport, close_out, engage_kill_switch
from gpttrader.engine.listing import listed_products
from gpttrader.engine.marks import MarkBook
from gpttrader.engine.publish import StatePublisher
from gpttrader.engine.reconcile import ReconcileReport, accept_books, check_positions, reconcile
from gpttrader.engine.refresh import AccountRefresh
from gpttrader.engine.reload import Reloader
from gpttrader.engine.run_control import RunControl, next_cycle
from gpttrader.engine.skew import ClockSkew
from gpttrader.engine.state import BotState, BotSummary
from gpttrader.engine.strategy_coordinator import StrategyCoordinator
from gpttrader.engine.telemetry import CycleMetrics, ExecutionTelemetry
from gpttrader.marketdata.cache import CandleCache
from gpttrader.monitoring import AlertBook, BotMetrics, Health, ResourceMonitor, webhook_delivery
from gpttrader.risk import LiveRiskManager
from gpttrader.store import EventStore, OrdersStore
from gpttrader.strategy import OrderStrategy, Strategy

log = logging.getLogger(__name__)
# Builds the feed (`Broker.stream`) from the handler's sink of typed events; None: the broker has no stream.
StreamFactory = Callable[[EventSink], Stream | None]


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
        candle_cache: CandleCache | None = None,
    ) -> None:
        self.config, self.broker, self.strategy, self.risk = config, broker, strategy, risk
        self.orders, self.events, self.clock, self.run_id = orders, events, clock, run_id
        self.marks = MarkBook()
        self.metrics = CycleMetrics()
        self.telemetry = ExecutionTelemetry(retries=retries)
        self.executor = OrderExecutor(broker, orders, events, run_id=run_id, now=clock.now)
        self.products: dict[str, Product] = {}
        self.control = RunControl(events, clock, run_id=run_id)
        self.feed = FeedHandler(self.marks, self.control.wake)
        self._stream_factory, self._channels = stream, tuple(channels)
        self._stream: Stream | None = None
        self._kill_lock = kill_lock  # one kill switch at a time per profile, this one or the command line's
        self._send_gate = send_gate  # each send waits for a kill switch at work (app.profile_lock.SendGate)
        self._candle_cache = candle_cache  # the venue's, read through at start (gpttrader.engine.history)
        self.delivery = webhook_delivery(config.alerts, profile=config.profile)  # None: no webhook configured
        self.alerts = AlertBook(sink=AlertSink(events, self.delivery, run_id=run_id))
        self.resources = ResourceMonitor(config.state_dir)  # CPU, memory, files, threads, loop lag, store size
        self.guard_feed = GuardFeed(config, risk, broker, self.marks)
        self._moved: list[str] = []  # spot holdings the last reconciliation found moved outside the books
        # Re-reads the profile when asked (engine.reload); without a loader, a reload finds nothing changed.
        self.reloader = Reloader(reload_config or (lambda: config), events, run_id=run_id)
        # The account's rates, read at start and each hour (the broker's method looked up at each read).
        self.fee_tier = FeeTier(lambda: self.broker.fee_rates(), events, run_id=run_id)
        self.refresh = AccountRefresh(broker, self.marks, self.fee_tier, self.guard_feed, fee_rate=fee_rate)
        self.reader = StateReader(
            orders=orders,
            marks=self.marks,
            metrics=self.metrics,
            telemetry=self.telemetry,
            risk=risk,
            guard_feed=self.guard_feed,
            fee_tier=self.fee_tier,
            reloader=self.reloader,
            control=self.control,
            alerts=self.alerts,
            delivery=self.delivery,
            resources=self.resources,
            rate_limited=rate_limited,
        )
        self.publisher = StatePublisher(
            events, config.state_dir / "metrics.json", monitor=monitor, snapshot_every=snapshot_every, run_id=run_id
        )
        self._execution: ExecutionCoordinator | None = None
        self._strategy: StrategyCoordinator | None = None
        self.state: BotState | None = None  # as the last cycle (or the start) left the bot: engine.state

    # -- lifecycle ---------------------------------------------------------------------------------------
    @property
    def execution(self) -> ExecutionCoordinator:
        if self._execution is None:
            raise RuntimeError("the bot has not been bootstrapped")
        return self._execution

    @property
    def fee_rate(self) -> Decimal:
        """The taker rate sizing budgets a buy's fee at: the profile's until the account's tier is read."""
        return self.refresh.fee_rate

    @property
    def metrics_path(self) -> Path:
        return self.publisher.metrics_path

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
            cache=self._candle_cache,
        )
        self.refresh.marks(self.config, now, force=True)
        self.refresh.cash(self._execution, derivatives=self._derivatives)
        self._execution.absorb_fills()

    def bootstrap(self) -> ReconcileReport:
        require_known_account(
            self.config.profile, self.broker, self.events, self.config.symbols, self.config.client_ids
        )
        self.prepare()
        assert self._strategy is not None
        assert self._execution is not None
        now = self.clock.now()
        report = self.reconcile()
        self.refresh.fees(self._execution, now)  # the seed's trips are priced as the account's own would be
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
        while self.control.running:
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

    def _read_state(self, now: datetime, *, judge: bool) -> BotState:
        return self.reader.read(now, self.config, self._execution, stream=self._stream, moved=self._moved, judge=judge)

    async def cycles(self, worker: Executor, *, max_cycles: int | None = None) -> AsyncIterator[int]:
        """The same loop as `run`, as a task on a running asyncio loop (a Jupyter kernel's): each cycle runs
        on `worker` (one thread, so that an operator's action sent there never runs inside a cycle) and the
        wait between cycles on the loop's default executor, so the loop itself never blocks. Yields the
        cycle count after each cycle, for a front end to refresh its view."""
        loop = asyncio.get_running_loop()
        self.resources.loop_lag.watch(loop)  # the lag of this loop (a kernel's) goes to the metrics
        while self.control.running:
            await loop.run_in_executor(worker, self.cycle)
            yield self.metrics.cycles
            if not await loop.run_in_executor(None, self._wait_for_next_cycle, max_cycles):
                return

    def _wait_for_next_cycle(self, max_cycles: int | None) -> bool:
        """Whether another cycle is due, after waiting for its time (the feed or `stop()` may wake it early)."""
        if max_cycles is not None and self.metrics.cycles >= max_cycles:
            return False
        return self.control.wait(self._next_cycle)

    def _next_cycle(self, now: datetime) -> datetime:
        """The next interval boundary (engine.run_control.next_cycle), by the skew the strategy side measured."""
        ahead = timedelta(0) if self._strategy is None else self._strategy.skew.ahead
        return next_cycle(now, interval_seconds=self.config.interval_seconds, ahead=ahead)

    def stop(self) -> None:
        self.control.stop()

    @property
    def paused(self) -> bool:
        return self.control.paused

    def pause(self, *, operator: str) -> None:
        self.control.pause(operator=operator)

    def resume(self, *, operator: str) -> None:
        self.control.resume(operator=operator)

    def shutdown(self) -> BotSummary:
        if self._stream is not None:
            self._stream.stop()
            self._stream = None
        if self.delivery is not None:
            self.delivery.close()  # the alerts queued go out (a few seconds at most), or are logged as not sent
        self.resources.loop_lag.unwatch()
        return self.publisher.stopped(self.read_state())  # after the delivery's last attempts: its counts are final

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
            self.refresh.marks(self.config, now, force=True)
        execution.signal_at, self.feed.bar_closed_at = self.feed.bar_closed_at, None
        self.risk.reload_state()  # a halt recorded by another process (`gpttrader kill`) holds from this cycle
        try:
            # Decide first: a closed bar is acted on with the marks the feed keeps fresh and the cash the
            # last cycle read; bookkeeping reads come after the orders are out.
            self._reload(now)
            self.refresh.fees(execution, now)
            self.refresh.marks(self.config, now)
            decided = self._strategy.new_bars(now)
            execution.bars_in_hand()
            for bar, decision in decided:
                self.metrics.bars += 1
                if decision and not self.control.paused:
                    execution.act(bar, decision, now)
            execution.refresh()
            self.refresh.cash(execution, derivatives=self._derivatives)
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
        self.state = self._read_state(now, judge=True)  # after the alert rules judged its health
        self.publisher.cycle(self.state)

    @property
    def _derivatives(self) -> bool:
        return any(p.is_derivative for p in self.products.values())

    def health(self, now: datetime) -> Health:
        """What the alert rules look at, from the bot's own state and stores."""
        return self.reader.health(now, self.config, self.execution, stream=self._stream, moved=self._moved)

    def request_reload(self) -> None:
        """SIGHUP's handler: the profile is re-read at the next cycle (engine.reload)."""
        self.reloader.signal()
        self.control.wake.set()

    def _reload(self, now: datetime) -> None:
        taken = self.reloader.take(self.config, now)
        if taken is not None:
            self.config = self.guard_feed.config = taken
            self.risk.reconfigure(taken)
