"""Reading the bot's parts into its one state (engine.state): the books read once for the state and the
health the alert rules judge, and the banner drawn from that health. Everything that shows the bot reads the
state this builds, never the parts themselves."""

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from gpttrader.brokers.protocol import Stream
from gpttrader.config import BotConfig
from gpttrader.domain import Order, OrderStatus, Position
from gpttrader.engine.execution_coordinator import ExecutionCoordinator
from gpttrader.engine.fee_tier import FeeTier
from gpttrader.engine.guard_feed import GuardFeed
from gpttrader.engine.marks import MarkBook
from gpttrader.engine.reload import Reloader
from gpttrader.engine.run_control import RunControl
from gpttrader.engine.state import BotState, OrderView, PositionView, SizingView
from gpttrader.engine.telemetry import CycleMetrics, ExecutionTelemetry
from gpttrader.monitoring import (
    AlertBook,
    Banner,
    Health,
    ResourceMonitor,
    WebhookDelivery,
    banner,
    execution_health,
    freshness,
)
from gpttrader.risk import LiveRiskManager
from gpttrader.store import OrdersStore


class StateReader:
    def __init__(
        self,
        *,
        orders: OrdersStore,
        marks: MarkBook,
        metrics: CycleMetrics,
        telemetry: ExecutionTelemetry,
        risk: LiveRiskManager,
        guard_feed: GuardFeed,
        fee_tier: FeeTier,
        reloader: Reloader,
        control: RunControl,
        alerts: AlertBook,
        delivery: WebhookDelivery | None,
        resources: ResourceMonitor,
        rate_limited: Callable[[], int],
    ) -> None:
        self._orders, self._marks, self._metrics, self._telemetry = orders, marks, metrics, telemetry
        self._risk, self._guard_feed, self._fee_tier, self._reloader = risk, guard_feed, fee_tier, reloader
        self._control, self._alerts, self._delivery, self._resources = control, alerts, delivery, resources
        self._rate_limited = rate_limited

    def read(
        self,
        now: datetime,
        config: BotConfig,
        execution: ExecutionCoordinator | None,
        *,
        stream: Stream | None,
        moved: Sequence[str],
        judge: bool,
    ) -> BotState:
        """The bot as it stands, its books read once for the state and its health; with `judge` (a cycle's
        end), the alert rules judge that health before the state takes their alerts. A bot never prepared
        (no `execution`) has no books to judge."""
        open_orders = self._orders.open_orders()
        positions = {} if execution is None else execution.positions()
        equity = None if execution is None else execution.equity()
        health = None
        if execution is not None and equity is not None:
            health = self._health(now, config, execution, open_orders, positions, equity, stream, moved)
            if judge:
                self._alerts.evaluate(health, now)
        holdings = () if execution is None else tuple(execution.portfolio.holdings.values())
        sizing = config.sizing
        risk = self._risk
        return BotState(
            profile=config.profile,
            at=now,
            counts=replace(self._metrics),
            trading_state=str(risk.state),
            paused=self._control.paused,
            config_version=self._reloader.version,
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
            marks=self._marks.prices(),
            mark_ages={pid: self._marks.age(pid, now) for pid in config.symbols},
            guards=tuple(risk.readings()),
            risk_counters=dict(risk.counters),
            execution=self._telemetry.as_dict(),
            resources=self._resources.sample(),
            alert_delivery=None if self._delivery is None else self._delivery.stats(),
            health=health or Health(running=self._control.running, state=str(risk.state)),
            banner=None if health is None else self._banner(now, config, health),
            alerts=tuple(reversed(self._alerts.history)),
            active_alerts=self._alerts.active,
            sizing=SizingView(
                method=sizing.method,
                min_trades=sizing.kelly_min_trades,
                floor_fraction=sizing.kelly_floor_fraction,
                edges=tuple(risk.edge.estimates(now)),
                regimes=tuple((pid, regime.value) for pid, regime in sorted(risk.regimes.items())),
                fees=self._fee_tier.rates,
            ),
        )

    def health(
        self,
        now: datetime,
        config: BotConfig,
        execution: ExecutionCoordinator,
        *,
        stream: Stream | None,
        moved: Sequence[str],
    ) -> Health:
        """What the alert rules look at, read now from the bot's books."""
        return self._health(
            now, config, execution, self._orders.open_orders(), execution.positions(), execution.equity(), stream, moved
        )

    def _health(
        self,
        now: datetime,
        config: BotConfig,
        execution: ExecutionCoordinator,
        open_orders: Sequence[Order],
        positions: Mapping[str, Position],
        equity: Decimal,
        stream: Stream | None,
        moved: Sequence[str],
    ) -> Health:
        stream_health = getattr(stream, "health", None)
        hour_ago = now - timedelta(hours=1)
        recent = [o for o in self._orders.all_orders() if o.updated_at >= hour_ago]
        guard = config.guards.daily_loss
        telemetry = self._telemetry
        return Health(
            running=self._control.running,
            connected=True if stream_health is None else bool(stream_health.connected),
            state=str(self._risk.state),
            success_rate=telemetry.success_rate,
            latency_p95_ms=0.0 if math.isnan(p95 := telemetry.percentile(95)) else p95,
            retries_per_order=telemetry.retries() / max(self._metrics.orders, 1),
            rate_limited=self._rate_limited(),
            equity=float(equity),
            daily_loss=self._guard_feed.daily_loss,
            daily_loss_limit=float(guard.limit) if guard.enabled else 0.0,
            unrealized_pnl={pid: float(p.unrealized_pnl) for pid, p in positions.items()},
            open_order_ages={o.client_order_id: (now - o.created_at).total_seconds() for o in open_orders},
            bar_seconds=float(config.strategy.granularity.seconds),
            failed_orders=sum(o.status in (OrderStatus.FAILED, OrderStatus.REJECTED) for o in recent),
            expired_orders=sum(o.status is OrderStatus.EXPIRED for o in recent),
            malformed=dict.fromkeys(self._guard_feed.malformed_endpoints(now), 1),
            unresolved_orders={o.client_order_id: o.product_id for o in open_orders if o.status.is_unresolved},
            unexplained_fills=execution.unexplained_fills,
            unmet_targets=dict(execution.unmet),
            unmet_alert_bars=config.execution.target_unmet_alert_bars,
            unprotected=dict(execution.exits.unprotected),
            holdings_moved=tuple(moved),
        )

    def _banner(self, now: datetime, config: BotConfig, health: Health) -> Banner | None:
        """The one line the panel shows on top: the feed reconnecting, the exchange failing calls within the
        API-error window, execution health, or the oldest mark's freshness."""
        oldest = max((self._marks.age(pid, now) for pid in config.symbols), default=0.0)
        return banner(
            reconnecting=not health.connected,
            degraded=self._guard_feed.recent_api_errors > 0,
            execution=execution_health(health.success_rate, breaker_open=health.state != "active"),
            data=freshness(oldest, connection_healthy=health.connected),
            malformed=sorted(health.malformed),
        )
