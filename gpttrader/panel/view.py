"""What the panel shows, read from the bot on its worker thread after a cycle (so that nothing is read
while a cycle changes it) into plain, frozen rows that the kernel's loop then renders."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from gpttrader.brokers.protocol import FeeRates
from gpttrader.engine.bot import TradingBot
from gpttrader.monitoring import Alert, Banner
from gpttrader.risk import GuardReading
from gpttrader.risk.edge import EdgeEstimate
from gpttrader.risk.manager import STATE_CHANGED
from gpttrader.store import DATABASE_FILE, EventStore
from gpttrader.store.integrity import known_stores, open_store
from gpttrader.store.refusals import DamagedStoreError


@dataclass(frozen=True, slots=True)
class PositionRow:
    product: str
    size: Decimal
    entry: Decimal
    mark: Decimal
    unrealized: Decimal
    realized: Decimal


@dataclass(frozen=True, slots=True)
class OrderRow:
    client_order_id: str
    product: str
    side: str
    kind: str
    size: Decimal
    filled: Decimal
    price: Decimal | None
    status: str
    age_seconds: float


@dataclass(frozen=True, slots=True)
class SizingView:
    """What sizing reads besides the order: the method, each strategy's edge estimate on each product (Kelly
    sizes by `floor_fraction` until an estimate has `min_trades` trips behind it), each product's market
    regime and the account's fee rates (None until first read)."""

    method: str
    min_trades: int
    floor_fraction: Decimal
    edges: tuple[EdgeEstimate, ...]
    regimes: tuple[tuple[str, str], ...]  # (product, regime), by product
    fees: FeeRates | None


@dataclass(frozen=True)
class BotView:
    at: datetime
    cycles: int
    state: str
    paused: bool
    equity: Decimal
    cash: Decimal
    realized: Decimal
    unrealized: Decimal
    fees: Decimal
    positions: tuple[PositionRow, ...]
    orders: tuple[OrderRow, ...]
    guards: tuple[GuardReading, ...]
    alerts: tuple[Alert, ...]  # newest first
    active_alerts: frozenset[str]
    banner: Banner | None
    sizing: SizingView
    config_version: int = 1  # of the configuration in force: each hot reload counts one up


def read_view(bot: TradingBot, *, alerts: int = 20) -> BotView:
    now = bot.clock.now()
    execution = bot.execution
    positions = execution.positions()
    health = bot.health(now)
    holdings = execution.portfolio.holdings.values()
    return BotView(
        at=now,
        cycles=bot.metrics.cycles,
        config_version=bot.reloader.version,
        state=str(bot.risk.state),
        paused=bot.paused,
        equity=execution.equity(),
        cash=execution.portfolio.cash,
        realized=sum((h.realized_pnl for h in holdings), Decimal(0)),
        unrealized=sum((p.unrealized_pnl for p in positions.values()), Decimal(0)),
        fees=execution.portfolio.fees_paid,
        positions=tuple(
            PositionRow(pid, p.size, p.entry_price, p.mark_price, p.unrealized_pnl, p.realized_pnl)
            for pid, p in sorted(positions.items())
        ),
        orders=tuple(
            OrderRow(
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
            for o in bot.orders.open_orders()
        ),
        guards=tuple(bot.risk.readings()),
        alerts=tuple(reversed(list(bot.alerts.history)[-alerts:])),
        active_alerts=bot.alerts.active,
        banner=bot.banner(now, health),
        sizing=SizingView(
            method=bot.config.sizing.method,
            min_trades=bot.config.sizing.kelly_min_trades,
            floor_fraction=bot.config.sizing.kelly_floor_fraction,
            edges=tuple(bot.risk.edge.estimates(now)),
            regimes=tuple((pid, regime.value) for pid, regime in sorted(bot.risk.regimes.items())),
            fees=bot.fee_tier.rates,
        ),
    )


@dataclass(frozen=True)
class StoredView:
    """A profile as its stores leave it, before any session of the panel: nothing (a first run), or its
    trading state and how its last session ended."""

    state_dir: Path
    first_run: bool
    state: str | None = None
    last_session: dict[str, object] | None = None
    refused: str | None = None  # the store is lost or damaged: why, and the fix


def read_stored(state_dir: Path) -> StoredView:
    """The profile's stored state before a session; a lost or damaged store is shown with its fix (Start
    would be refused the same way), never read as a first run or shown as a traceback."""
    if DATABASE_FILE not in known_stores(state_dir):
        return StoredView(state_dir, first_run=True)
    try:
        database = open_store(state_dir, DATABASE_FILE)
    except DamagedStoreError as exc:
        return StoredView(state_dir, first_run=False, refused=str(exc))
    try:
        events = EventStore(database)
        changed = events.latest(STATE_CHANGED)
        return StoredView(
            state_dir,
            first_run=False,
            state=str(changed["to"]) if changed else "active",
            last_session=events.latest("bot.stopped"),
        )
    finally:
        database.close()
