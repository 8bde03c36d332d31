"""The catalogue of event types: every type the package writes to the event store (and the risk journal),
each with the shape of its payload.

It sits in the domain layer so that every writer (risk, store, engine) and every reader (reports, the
panel, the command line) names a type by its `EventType` member, never by a string that could drift from
the writer's. A member's name is its stored value upper-cased with the dot as an underscore
(`risk.state_changed` is `RISK_STATE_CHANGED`). Its payload is the TypedDict `PAYLOADS[member]`, named after
the type (`RiskStateChangedPayload`) or, when several types record the same thing, after what they share
(`OrderFinalPayload`): the keys writers put, with the values as they are written (a reader gets them back
through JSON, Decimals and times as text). `check_payload` holds every append to that shape.
"""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import NotRequired, TypedDict

from gpttrader.domain.enums import OrderStatus, OrderType, Side
from gpttrader.domain.orders import Fill, OrderRequest


class EventType(StrEnum):
    """Stored by value: a store written before the catalogue existed reads back as these members."""

    # the bot's life
    BOT_STARTED = "bot.started"  # bootstrapped: the profile, strategy, equity and the start's reconciliation
    BOT_PAUSED = "bot.paused"  # an operator stopped it acting on decisions (it still watches)
    BOT_RESUMED = "bot.resumed"  # an operator let it act on decisions again
    BOT_STOPPED = "bot.stopped"  # shut down: the session's summary
    BOT_CYCLE_ERROR = "bot.cycle_error"  # a cycle failed: the error, and the policy when not the exchange's
    FEED_RESYNC = "feed.resync"  # the feed reconnected or missed messages: everything was read again
    BAR_REVISED = "bar.revised"  # the exchange changed a bar after the strategy decided on it
    ALERT = "alert"  # an alert rule fired
    ACCOUNT_SNAPSHOT = "account.snapshot"  # equity, cash, positions and marks: the session's equity curve
    ACCOUNT_FEE_TIER = "account.fee_tier"  # the account's fee rates changed (or were first read)
    STORE_ADOPTED = "store.adopted"  # an operator took the exchange account's state into a new store
    # the strategy and the order path
    STRATEGY_DECISION = "strategy.decision"  # an order decided, before the risk manager: the parity stream
    ORDER_INTENT = "order.intent"  # an order written to the orders store, about to be sent
    ORDER_ACKNOWLEDGED = "order.acknowledged"  # the venue took an order and gave its id
    ORDER_FILL = "order.fill"  # a fill of an order, recorded once by trade id
    ORDER_FILLED = "order.filled"  # an order is final: filled
    ORDER_CANCELLED = "order.cancelled"  # an order is final: cancelled
    ORDER_EXPIRED = "order.expired"  # an order is final: expired at the venue
    ORDER_REJECTED = "order.rejected"  # an order is final: refused before the send or by the venue
    ORDER_FAILED = "order.failed"  # an order is final: failed at the venue
    ORDER_SEND_FAILED = "order.send_failed"  # a send answered before processing (429/401/403): never placed
    ORDER_UNKNOWN = "order.unknown"  # a send without a definite answer: the venue may hold the order
    ORDER_NOT_FOUND = "order.not_found"  # an order of unknown fate still not listed long after: never placed
    ORDER_RESENT = "order.resent"  # an order of unknown fate sent again under its own client order id
    ORDER_RESOLVED = "order.resolved"  # an order of unknown fate found at the venue
    ORDER_UNRESOLVED = "order.unresolved"  # an order of unknown fate not looked up within its time
    ORDER_CANCEL_REQUESTED = "order.cancel_requested"  # a cancel sent (a stray one: open at the venue only)
    ORDER_EXPIRE_REQUESTED = "order.expire_requested"  # a limit entry cancelled at the end of its expire_bars
    ORDER_AMEND_REQUESTED = "order.amend_requested"  # an edit of a resting limit order sent
    ORDER_AMEND_REJECTED = "order.amend_rejected"  # the venue refused an edit
    ORDER_AMENDED = "order.amended"  # the venue holds an order at a new size or price
    ORDER_ADOPTED = "order.adopted"  # an order the venue has and the store had not, taken into the store
    ORDER_EXITS_PLANNED = "order.exits_planned"  # an entry's take-profit and stop-loss, before it is sent
    ORDER_EXITS_DONE = "order.exits_done"  # an entry's exits are over (closed, or no longer needed)
    ORDER_EXIT_UNPLACED = "order.exit_unplaced"  # an entry whose exit could not be placed within its attempts
    BOOKS_UNEXPLAINED_FILL = "books.unexplained_fill"  # a fill selling more than the books hold: halted
    # reconciliation
    RECONCILE_DONE = "reconcile.done"  # a reconciliation's report
    RECONCILE_FOREIGN_ORDER = "reconcile.foreign_order"  # another bot's or a person's open order, left working
    RECONCILE_UNKNOWN_ADOPTED = "reconcile.unknown_adopted"  # this bot's order the store lacked, adopted
    RECONCILE_UNKNOWN_CANCELLED = "reconcile.unknown_cancelled"  # this bot's order the store lacked, cancelled
    RECONCILE_BASELINE = "reconcile.baseline"  # what the account holds outside the bot's books, per currency
    # Written by the bots of issue 11's time (an order written but never sent, marked so at a start); no longer
    # written, but a profile's store keeps it, and a store must read back whole.
    RECONCILE_UNSENT = "reconcile.unsent"
    # the risk manager
    RISK_STATE_CHANGED = "risk.state_changed"  # the trading state moved: the state's only home
    RISK_GUARD_WARNING = "risk.guard_warning"  # a guard's reading crossed its warning threshold
    RISK_GUARD_BREACHED = "risk.guard_breached"  # a guard's reading crossed its limit
    RISK_GUARD_INACTIVE = "risk.guard_inactive"  # a guard switched off for the run: nothing in this mode feeds it
    RISK_ORDER_REJECTED = "risk.order_rejected"  # a pre-trade check refused an order
    RISK_ORDER_CANCELLED = "risk.order_cancelled"  # a working order stopped by reduce-only or halted
    RISK_SIZING_CUT = "risk.sizing_cut"  # sizing gave less than asked, and why
    RISK_EDGE_ESTIMATE = "risk.edge_estimate"  # a (strategy, product)'s edge estimate changed
    RISK_EDGE_SEED = "risk.edge_seed"  # the start's seed of the regimes and the edge record from history
    RISK_REGIME = "risk.regime"  # a product's market regime changed
    RISK_KILL_SWITCH = "risk.kill_switch"  # the kill switch engaged: who and why
    KILL_SWITCH_DONE = "kill_switch.done"  # what a kill switch cancelled and flattened, and what it left
    # configuration reloads
    CONFIG_RELOAD_REQUESTED = "config.reload_requested"  # a running bot asked to re-read its profile
    CONFIG_RELOADED = "config.reloaded"  # a reload request answered: applied
    CONFIG_RELOAD_REFUSED = "config.reload_refused"  # a reload request answered: refused, the config kept


class BotStartedPayload(TypedDict):
    profile: str
    strategy: str
    granularity: str
    symbols: list[str]
    state: str
    equity: Decimal
    warmup_bars: int
    reconcile: dict[str, list[str]]  # the start's RECONCILE_DONE report
    # Each product's contract size in units of its base (1 for spot): what a session report needs to turn
    # the fills into round trips. Left out by the bots before it.
    multipliers: NotRequired[dict[str, Decimal]]


class BotPausedPayload(TypedDict):
    operator: str


class BotResumedPayload(TypedDict):
    operator: str


class BotStoppedPayload(TypedDict):
    """The bot's summary (engine.state.BotSummary) as a dict."""

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
    positions: dict[str, str]


class BotCycleErrorPayload(TypedDict):
    error: str
    message: str
    policy: NotRequired[str]  # only for a failure not the exchange's: whether the loop carries on


class FeedResyncPayload(TypedDict):
    message: str


class BarRevisedPayload(TypedDict):
    product_id: str
    time: datetime
    old: dict[str, str] | None  # None: the bar first appeared late
    new: dict[str, str]


class AlertPayload(TypedDict):
    rule: str
    category: str
    severity: str
    message: str
    hint: str


class AccountSnapshotPayload(TypedDict):
    equity: Decimal | None
    cash: Decimal
    positions: dict[str, str]
    marks: dict[str, Decimal]
    state: str


class AccountFeeTierPayload(TypedDict):
    tier: str
    maker: str
    taker: str
    previous: dict[str, str] | None


class StoreAdoptedPayload(TypedDict):
    operator: str
    reason: str
    replaced: dict[str, str | None]
    orders: list[str]
    positions: dict[str, Decimal]
    balances: dict[str, Decimal]


class StrategyDecisionPayload(TypedDict):
    bar_time: datetime
    product_id: str
    side: Side
    size: Decimal
    order_type: OrderType
    client_order_id: str
    mark: Decimal
    retry: bool
    expires_at: datetime | None


class OrderIntentPayload(TypedDict):
    request: OrderRequest


class OrderAcknowledgedPayload(TypedDict):
    client_order_id: str
    order_id: str | None


class OrderFillPayload(TypedDict):
    fill: Fill


class OrderFinalPayload(TypedDict):
    """An order's final status, as the venue reported it."""

    client_order_id: str


class OrderRejectedPayload(TypedDict):
    client_order_id: str
    # a refusal by the pre-send checks or the venue says why; a final status the venue reported does not
    reason: NotRequired[str]
    message: NotRequired[str]
    stage: NotRequired[str]  # "pre-send" or "venue"


class OrderSendFailedPayload(TypedDict):
    client_order_id: str
    error: str
    message: str


class OrderUnknownPayload(TypedDict):
    client_order_id: str
    product_id: str
    error: NotRequired[str]  # a send that failed; absent for an order the venue does not list after a crash
    message: str


class OrderMessagePayload(TypedDict):
    client_order_id: str
    message: str


class OrderResentPayload(TypedDict):
    client_order_id: str


class OrderResolvedPayload(TypedDict):
    client_order_id: str
    order_id: str | None
    status: OrderStatus


class OrderCancelRequestedPayload(TypedDict):
    client_order_id: str
    order_id: NotRequired[str | None]  # a stray order's: cancelled at the venue whatever the store holds
    stray: NotRequired[bool]


class OrderExpireRequestedPayload(TypedDict):
    client_order_id: str
    expires_at: datetime


class OrderAmendRequestedPayload(TypedDict):
    client_order_id: str
    size: Decimal
    limit_price: Decimal


class OrderAmendRejectedPayload(TypedDict):
    client_order_id: str
    reason: str


class OrderAmendedPayload(TypedDict):
    client_order_id: str
    size: Decimal
    limit_price: Decimal | None


class OrderAdoptedPayload(TypedDict):
    client_order_id: str
    order_id: str | None


class OrderExitsPlannedPayload(TypedDict):
    client_order_id: str
    take_profit: Decimal
    stop_loss: Decimal


class BooksUnexplainedFillPayload(TypedDict):
    trade_id: str
    client_order_id: str
    excess: Decimal
    message: str


class ReconcileDonePayload(TypedDict):
    """The reconciliation's report (engine.reconcile.ReconcileReport): client order ids, or lines."""

    refreshed: list[str]
    recovered: list[str]
    unresolved: list[str]
    adopted: list[str]
    cancelled: list[str]
    foreign: list[str]
    moved: list[str]
    mismatches: list[str]


class ReconcileForeignOrderPayload(TypedDict):
    client_order_id: str
    order_id: str | None
    product_id: str


class ReconcileUnknownOrderPayload(TypedDict):
    client_order_id: str
    order_id: str | None


class ReconcileBaselinePayload(TypedDict):
    outside: dict[str, Decimal]
    operator: str | None  # None: recorded by the bot itself
    new: NotRequired[list[str]]  # the currencies first recorded
    moved: NotRequired[bool]  # holdings moved outside the books on a shared account
    reason: NotRequired[str]  # an operator's, accepting the books


# "from" is a keyword: this TypedDict can only be spelled functionally.
RiskStateChangedPayload = TypedDict(
    "RiskStateChangedPayload",
    {
        "from": str,
        "to": str,
        "by": str,  # "system" or "operator"
        "operator": NotRequired[str],
        "reason": str,
    },
)


class RiskGuardWarningPayload(TypedDict):
    guard: str
    metric: str
    value: float
    scope: str | None
    limit: str
    warning: str


class RiskGuardBreachedPayload(TypedDict):
    guard: str
    metric: str
    value: str
    limit: str
    comparison: str
    action: str
    scope: str | None
    message: str
    severity: str  # "critical" or "recoverable"


class RiskGuardInactivePayload(TypedDict):
    guard: str
    reason: str


class RiskOrderRejectedPayload(TypedDict):
    client_order_id: str
    product_id: str
    side: str
    size: str
    check: str
    reason: str
    message: str
    state: str


class RiskOrderCancelledPayload(TypedDict):
    client_order_id: str
    remaining: str
    state: str


class RiskSizingCutPayload(TypedDict):
    symbol: str
    strategy: str
    method: str
    size: str
    fraction: str
    reasons: list[str]
    trades: int | None
    win_rate: str | None
    avg_win: str | None
    avg_loss: str | None
    regime: str | None


class RiskEdgeEstimatePayload(TypedDict):
    strategy: str
    product_id: str
    trades: int
    wins: int
    win_rate: str | None
    avg_win: str | None
    avg_loss: str | None
    kelly: str | None
    fraction: NotRequired[str]  # the closed trip that changed it
    source: NotRequired[str]  # an announcement of the whole record: "seed" or "record"


class RiskEdgeSeedPayload(TypedDict):
    bars: int | dict[str, int]  # per product; 0 when the history could not be read
    trips: int
    error: NotRequired[str]  # the history could not be read
    backtest: NotRequired[bool]  # whether the seed backtest ran (Kelly sizing)


class RiskRegimePayload(TypedDict):
    product_id: str
    regime: str
    previous: str | None


class OperatorActionPayload(TypedDict):
    operator: str
    reason: str


class KillSwitchDonePayload(TypedDict):
    operator: str
    reason: str
    complete: bool  # the exchange showed nothing left: the next kill is a new episode
    cancelled: list[str]
    flattened: list[str]
    failed: list[str]
    left: list[str]


class ConfigReloadRequestedPayload(TypedDict):
    operator: str
    reason: str | None


class ConfigReloadedPayload(TypedDict):
    request: int  # the id of the CONFIG_RELOAD_REQUESTED event answered
    operator: str | None
    reason: str | None
    message: str
    version: int  # of the configuration now in force


class ConfigReloadRefusedPayload(TypedDict):
    request: int
    operator: str | None
    reason: str | None
    message: str


PAYLOADS: dict[EventType, type] = {
    EventType.BOT_STARTED: BotStartedPayload,
    EventType.BOT_PAUSED: BotPausedPayload,
    EventType.BOT_RESUMED: BotResumedPayload,
    EventType.BOT_STOPPED: BotStoppedPayload,
    EventType.BOT_CYCLE_ERROR: BotCycleErrorPayload,
    EventType.FEED_RESYNC: FeedResyncPayload,
    EventType.BAR_REVISED: BarRevisedPayload,
    EventType.ALERT: AlertPayload,
    EventType.ACCOUNT_SNAPSHOT: AccountSnapshotPayload,
    EventType.ACCOUNT_FEE_TIER: AccountFeeTierPayload,
    EventType.STORE_ADOPTED: StoreAdoptedPayload,
    EventType.STRATEGY_DECISION: StrategyDecisionPayload,
    EventType.ORDER_INTENT: OrderIntentPayload,
    EventType.ORDER_ACKNOWLEDGED: OrderAcknowledgedPayload,
    EventType.ORDER_FILL: OrderFillPayload,
    EventType.ORDER_FILLED: OrderFinalPayload,
    EventType.ORDER_CANCELLED: OrderFinalPayload,
    EventType.ORDER_EXPIRED: OrderFinalPayload,
    EventType.ORDER_REJECTED: OrderRejectedPayload,
    EventType.ORDER_FAILED: OrderFinalPayload,
    EventType.ORDER_SEND_FAILED: OrderSendFailedPayload,
    EventType.ORDER_UNKNOWN: OrderUnknownPayload,
    EventType.ORDER_NOT_FOUND: OrderMessagePayload,
    EventType.ORDER_RESENT: OrderResentPayload,
    EventType.ORDER_RESOLVED: OrderResolvedPayload,
    EventType.ORDER_UNRESOLVED: OrderMessagePayload,
    EventType.ORDER_CANCEL_REQUESTED: OrderCancelRequestedPayload,
    EventType.ORDER_EXPIRE_REQUESTED: OrderExpireRequestedPayload,
    EventType.ORDER_AMEND_REQUESTED: OrderAmendRequestedPayload,
    EventType.ORDER_AMEND_REJECTED: OrderAmendRejectedPayload,
    EventType.ORDER_AMENDED: OrderAmendedPayload,
    EventType.ORDER_ADOPTED: OrderAdoptedPayload,
    EventType.ORDER_EXITS_PLANNED: OrderExitsPlannedPayload,
    EventType.ORDER_EXITS_DONE: OrderMessagePayload,
    EventType.ORDER_EXIT_UNPLACED: OrderMessagePayload,
    EventType.BOOKS_UNEXPLAINED_FILL: BooksUnexplainedFillPayload,
    EventType.RECONCILE_DONE: ReconcileDonePayload,
    EventType.RECONCILE_FOREIGN_ORDER: ReconcileForeignOrderPayload,
    EventType.RECONCILE_UNKNOWN_ADOPTED: ReconcileUnknownOrderPayload,
    EventType.RECONCILE_UNKNOWN_CANCELLED: ReconcileUnknownOrderPayload,
    EventType.RECONCILE_UNSENT: OrderMessagePayload,
    EventType.RECONCILE_BASELINE: ReconcileBaselinePayload,
    EventType.RISK_STATE_CHANGED: RiskStateChangedPayload,
    EventType.RISK_GUARD_WARNING: RiskGuardWarningPayload,
    EventType.RISK_GUARD_BREACHED: RiskGuardBreachedPayload,
    EventType.RISK_GUARD_INACTIVE: RiskGuardInactivePayload,
    EventType.RISK_ORDER_REJECTED: RiskOrderRejectedPayload,
    EventType.RISK_ORDER_CANCELLED: RiskOrderCancelledPayload,
    EventType.RISK_SIZING_CUT: RiskSizingCutPayload,
    EventType.RISK_EDGE_ESTIMATE: RiskEdgeEstimatePayload,
    EventType.RISK_EDGE_SEED: RiskEdgeSeedPayload,
    EventType.RISK_REGIME: RiskRegimePayload,
    EventType.RISK_KILL_SWITCH: OperatorActionPayload,
    EventType.KILL_SWITCH_DONE: KillSwitchDonePayload,
    EventType.CONFIG_RELOAD_REQUESTED: ConfigReloadRequestedPayload,
    EventType.CONFIG_RELOADED: ConfigReloadedPayload,
    EventType.CONFIG_RELOAD_REFUSED: ConfigReloadRefusedPayload,
}


def _keys(shape: type) -> tuple[frozenset[str], frozenset[str]]:
    """A TypedDict's required keys and all its keys (NotRequired ones counted as optional)."""
    attributes = vars(shape)  # a TypedDict's own: `type` declares neither
    return attributes["__required_keys__"], attributes["__required_keys__"] | attributes["__optional_keys__"]


# Each type's keys, worked out once: the check at each append is two set operations.
_KEYS = {kind: _keys(shape) for kind, shape in PAYLOADS.items()}


def check_payload(type: EventType, payload: Mapping[str, object]) -> None:
    """Refuse a payload that is not its type's shape (a required key missing, a key it does not have), so a
    writer's typo fails where it is written rather than as a reader's KeyError later. Values are not
    checked: the keys are what readers look up."""
    required, allowed = _KEYS[type]
    keys = payload.keys()
    if missing := required - keys:
        raise ValueError(f"event {type}: payload misses {', '.join(map(repr, sorted(missing)))}")
    if unknown := keys - allowed:
        raise ValueError(
            f"event {type}: payload has unknown {', '.join(map(repr, sorted(unknown)))} "
            f"(its keys are {', '.join(sorted(allowed))})"
        )
