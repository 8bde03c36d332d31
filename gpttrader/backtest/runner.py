"""The backtest: the shared engine parts (strategy, sizing, the simulated fill model, the portfolio) on a
simulated clock over history.

Two ways through the same rules, with the same results:
- fast (default): the strategy's vectorized targets give the bars where a decision changes; only there
  (and on the bars a refused target is tried again, as live pursues it, and while an order is still
  filling) does Python do per-bar work. The equity curve between trades is
  computed vectorized, as cash plus positions times closes.
- step: the decisions come from `on_bar`, bar by bar with the state the live loop keeps for a strategy,
  instead of from the vectorized targets; execution is the same. Tests hold the two to identical orders,
  fills and equity, which is what lets the fast path stand for the live decisions. An order strategy
  (limit and stop-limit entries with brackets attached) has no vectorized form and always runs this way.
A decision made at a bar's close is executed on the next bar (market orders at its open by default).

With a risk manager, every order passes its pre-trade checks under the trading state in force, and its
guards watch the equity, the volatility, the concentration and the loss streak on every bar. Its sizing
walks forward: each round trip goes to the strategy's edge record as it closes, so a decision is sized
from the trips closed before it only, and with the regime of the bar it is decided on (the regimes of a
product's bars depend on prices alone and are computed for the whole run at once). The bars are
taken in chunks: a chunk's events are processed, then the guards are evaluated over all of its bars at
once. A guard that moves the trading state inside a chunk sends the chunk back to its start, to be
processed again with the new state in force from the next bar, which is exactly what a bar-by-bar loop
would have done (and the state moves at most twice per run: to reduce-only, to halted).
"""

import copy
import gc
import heapq
import logging
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import numpy as np
import pandas as pd

from gpttrader.backtest.metrics import compute_metrics
from gpttrader.backtest.result import BacktestResult, RunSettings
from gpttrader.brokers.simulated import FillModel, synthetic_book
from gpttrader.domain import Candle, Fill, Granularity, OrderBook, OrderRequest, Product, Side
from gpttrader.domain.client_ids import ClientIds
from gpttrader.domain.events import EventType
from gpttrader.domain.funding import FUNDING_INTERVAL, accrue_funding, funding_payment, pays_funding
from gpttrader.domain.round_trips import RoundTrips, round_trips
from gpttrader.engine.decisions import market_order, order_for_intent, target_size
from gpttrader.engine.execution_coordinator import BOOK_LEVELS
from gpttrader.engine.order_manager import ExitPlan, Pursuit, entry_expiry, exit_size, stopped_by
from gpttrader.engine.portfolio import Portfolio
from gpttrader.risk import (
    FixedFractionSizer,
    GuardTransition,
    LiveRiskManager,
    MemoryJournal,
    PositionSizer,
    TradeContext,
    TradingState,
    classify_regimes,
)
from gpttrader.risk.edge import ClosedTrip
from gpttrader.risk.metrics import (
    DEPTH_BAND_BPS,
    EquityTracker,
    LossStreak,
    annualized_volatility,
    correlated_exposure,
    rolling_correlations,
)
from gpttrader.risk.regime import regime_of
from gpttrader.strategy import Intent, OrderIntent, OrderStrategy, Strategy, TargetPosition, bars
from gpttrader.strategy.timeframes import Stepper, higher_timeframes

# The replica's guard warnings are in the result; logging each (thousands in a long run) would drown a notebook.
RISK_LOG = logging.getLogger("gpttrader.backtest.risk")
RISK_LOG.addHandler(logging.NullHandler())
RISK_LOG.propagate = False

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ZERO = Decimal(0)

# At one time: a state change first, then decisions (a new one replaces working entries), then work.
STATE, DECIDE, WORK = -1, 0, 1
CHUNK = 1 << 16  # bars per guard evaluation: small enough that replaying one is cheap
# Guards nothing in a backtest can feed: it makes no exchange calls, its marks are the bars themselves, and it
# models no margin account. Their protection is live's; in a backtest they would only look watched.
UNFED_IN_BACKTEST = {
    "error_rate": "a backtest makes no exchange calls",
    "api_errors": "a backtest makes no exchange calls",
    "stale_market_data": "a backtest's marks are its bars: never stale",
    "liquidation_buffer": "a backtest models no margin account",
}


def default_product(product_id: str) -> Product:
    """A spot product with fine increments, for candles given without a product."""
    base, _, quote = product_id.partition("-")
    return Product(
        product_id,
        base or product_id,
        quote or "USD",
        Decimal("0.00000001"),
        Decimal("0.00000001"),
        Decimal(0),
        Decimal("1e12"),
        Decimal(0),
    )


@dataclass(frozen=True, slots=True)
class _Working:
    """An order still working: what is left of it, whether it rested or triggered on an earlier bar, the
    last row it may work on (an expiring entry), and the bracket to attach to what it fills."""

    pid: str
    request: OrderRequest
    remaining: Decimal
    resting: bool = False
    triggered: bool = False
    last_row: int | None = None
    exits: ExitPlan | None = None
    filled: Decimal = Decimal(0)
    is_exit: bool = False


def run_backtest(
    strategy: Strategy | OrderStrategy,
    candles: pd.DataFrame | Mapping[str, pd.DataFrame],
    *,
    product_id: str | None = None,
    products: Mapping[str, Product] | None = None,
    initial_cash: Decimal = Decimal(1_000_000),
    fill_model: FillModel | None = None,
    sizer: PositionSizer | None = None,
    risk: LiveRiskManager | None = None,
    mode: Literal["fast", "step"] = "fast",
) -> BacktestResult:
    """Backtest `strategy`. Without `risk`, the strategy alone (the reference case); with it, a replica of
    that manager (fresh state, its own journal, the simulated clock) checks every order and runs the guards.
    `sizer` defaults to the manager's, or to equal fixed fractions of equity across the products."""
    if initial_cash <= 0:
        raise ValueError(f"initial_cash must be positive, got {initial_cash}")
    frames = {_product_of(candles, product_id): candles} if isinstance(candles, pd.DataFrame) else dict(candles)
    if not frames:
        raise ValueError("no candles to backtest")
    for pid, frame in frames.items():
        _check_frame(pid, frame)
    catalog = {pid: (products or {}).get(pid) or default_product(pid) for pid in frames}
    model = fill_model or FillModel()
    # int64 nanoseconds: pandas keeps a file's own resolution (often ms), so the unit is set, not assumed.
    stamps = {
        pid: pd.DatetimeIndex(pd.to_datetime(f["time"], utc=True)).as_unit("ns").asi8 for pid, f in frames.items()
    }
    widths = {pid: _bar_width(s) for pid, s in stamps.items()}
    targets, intents = _decisions(strategy, frames, widths, mode)
    engine = _Engine(Portfolio(cash=initial_cash), catalog, model, frames, stamps, widths, strategy.name)
    if risk is None:
        engine.sizer = sizer or FixedFractionSizer(Decimal(1) / len(frames))
    else:
        engine.risk = risk.replica(engine.journal, engine.clock, sizer, RISK_LOG)
        for name, why in UNFED_IN_BACKTEST.items():  # switched off, recorded in the result's journal
            engine.risk.deactivate(name, why)
        engine.risk.announce_edges(source="backtest")
        engine.regimes = {
            pid: classify_regimes(columns["close"], engine.risk.regime_settings)
            for pid, columns in engine.columns.items()
        }
        engine.sizer = engine.risk
    engine.run(targets, intents)
    equity, exposure = engine.curves()
    result = BacktestResult(
        equity=equity,
        exposure=exposure,
        trades=round_trips(engine.fills, {pid: product.multiplier for pid, product in catalog.items()}),
        trip_returns=engine.trip_returns,
        orders=engine.orders,
        fills=engine.fills,
        initial_cash=initial_cash,
        final_cash=engine.portfolio.cash,
        fees_paid=engine.portfolio.fees_paid,
        risk_events=sorted(engine.journal.events, key=lambda e: e.time or datetime.min),
        risk_state=None if engine.risk is None else engine.risk.state,
        risk_counters=Counter() if engine.risk is None else engine.risk.counters,
        settings=RunSettings(strategy, model.fees.maker, model.fees.taker, model.slippage_bps),
    )
    result.metrics = compute_metrics(result)
    return result


def _product_of(frame: pd.DataFrame, product_id: str | None) -> str:
    """The product one frame's candles are of: `product_id`, else the one the frame carries (`load_candles`,
    `read_candle_file` and `synthetic_candles` record it). Neither is refused: a default would label the
    trades with another market and apply its increments, silently."""
    carried = frame.attrs.get("product_id")
    if product_id is None and carried is None:
        raise ValueError(
            "which product are these candles of? they carry none: pass product_id='ETH-USD', or a mapping "
            "{'ETH-USD': candles} (candles from load_candles or a file named for its product carry theirs)"
        )
    return str(product_id or carried)


def _check_frame(product_id: str, frame: pd.DataFrame) -> None:
    missing = [c for c in ("time", "open", "high", "low", "close", "volume") if c not in frame.columns]
    if missing:
        raise ValueError(f"{product_id} candles lack columns {', '.join(missing)}")
    if frame.empty:
        raise ValueError(f"{product_id} candles are empty")
    if not pd.Series(frame["time"]).is_monotonic_increasing or not pd.Series(frame["time"]).is_unique:
        raise ValueError(f"{product_id} candles are not sorted by time with unique timestamps")


Intents = dict[str, dict[int, tuple[Intent, ...]]]


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Stepping a strategy makes a few objects per bar (the bar, the decision), millions in a long run, none
    in a reference cycle: the cycle collector, triggered by every few hundred new objects, would spend
    three times the stepping's own time walking them. Objects are still freed when their last reference
    goes; a cycle a strategy makes is collected once the stepping is done."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _bar_width(stamps: np.ndarray) -> timedelta:
    """The bar width of a product's bar times (int64 ns): the shortest step between them (a longer one is a
    stretch with no trades)."""
    if len(stamps) < 2:
        return Granularity.ONE_MINUTE.width
    return timedelta(microseconds=int(np.diff(stamps).min()) // 1000)


def _decisions(
    strategy: Strategy | OrderStrategy,
    frames: Mapping[str, pd.DataFrame],
    widths: Mapping[str, timedelta],
    mode: str,
) -> tuple[dict[str, np.ndarray], Intents]:
    """Per product, the target after each bar (a target strategy), or the orders placed after each bar
    that places some (an order strategy). Which one a strategy is shows in what `on_bar` returns, as live
    reads it: a strategy with no vectorized `targets()` is simply stepped."""
    if mode not in ("fast", "step"):
        raise ValueError(f"mode must be fast or step, got {mode!r}")
    # The fast path is `targets()` over the whole history, which sees no wider bars: a strategy watching
    # higher timeframes is stepped, as live steps it.
    if isinstance(strategy, Strategy) and mode == "fast" and not higher_timeframes(strategy):
        return {pid: strategy.targets(frame) for pid, frame in frames.items()}, {}
    targets: dict[str, np.ndarray] = {}
    intents: Intents = {}
    for pid, frame in frames.items():
        stepper = Stepper(strategy, widths[pid])
        wanted = np.zeros(len(frame))  # a target strategy's target after each bar
        placed: dict[int, tuple[Intent, ...]] = {}  # an order strategy's intents, by bar
        kinds: set[type] = set()
        with _without_cycle_collection():
            for row, bar in enumerate(bars(frame, pid)):
                decided = stepper.step(bar)
                if isinstance(decided, TargetPosition):
                    wanted[row] = decided.target
                    kinds.add(TargetPosition)
                elif isinstance(decided, tuple):
                    if decided:
                        placed[row] = decided
                        kinds.add(tuple)
                    elif row:  # nothing decided: the target stays as it was
                        wanted[row] = wanted[row - 1]
                else:
                    raise TypeError(f"{strategy.name}.on_bar must return a TargetPosition or a tuple of intents")
        if kinds == {TargetPosition, tuple}:
            raise TypeError(f"{strategy.name}.on_bar returned both targets and order intents: one or the other")
        if TargetPosition in kinds:
            targets[pid] = wanted
        else:
            intents[pid] = placed
    return targets, intents


class _Engine:
    def __init__(
        self,
        portfolio: Portfolio,
        catalog: Mapping[str, Product],
        model: FillModel,
        frames: Mapping[str, pd.DataFrame],
        stamps: Mapping[str, np.ndarray],
        bars: Mapping[str, timedelta],
        strategy_name: str = "",
    ):
        self.portfolio, self.catalog, self.model = portfolio, catalog, model
        self.strategy_name = strategy_name  # the key of its edge record
        self.initial_cash = portfolio.cash
        self.sizer: PositionSizer = FixedFractionSizer()
        self.risk: LiveRiskManager | None = None
        self.journal = MemoryJournal()
        self.state = TradingState.ACTIVE  # the state in force for the event being processed
        self.columns = {
            pid: {c: f[c].to_numpy() for c in ("open", "high", "low", "close", "volume")} for pid, f in frames.items()
        }
        self.stamps = stamps  # bar times as int64 nanoseconds since the epoch, UTC
        # One product's own times are the union already (sorted and unique: checked on the way in).
        union = next(iter(stamps.values())) if len(stamps) == 1 else np.unique(np.concatenate(list(stamps.values())))
        self.times_ns = union
        self.times = pd.DatetimeIndex(pd.to_datetime(union, utc=True, unit="ns"))
        self.position = {pid: np.searchsorted(union, s) for pid, s in stamps.items()}
        self.now_ns = int(union[0])
        self._clock_cache: tuple[int, datetime] = (-1, datetime.min)
        self._valuation: tuple[tuple[str, int, int], dict[str, Decimal], Decimal] = (("", -1, -1), {}, ZERO)
        # Each product's close on the union of all bar times, carried forward over its own gaps.
        self.closes: dict[str, np.ndarray] = {}
        for pid in frames:
            close = np.full(len(union), np.nan)
            close[self.position[pid]] = self.columns[pid]["close"]
            self.closes[pid] = np.nan_to_num(pd.Series(close).ffill().to_numpy())
        # The backtest's orders are named as live names them (gpttrader.domain.client_ids), under its own prefix.
        self.ids = ClientIds("bt")
        self.orders: list[OrderRequest] = []
        self.sent: list[datetime] = []  # when each decided order went out, on the simulated clock: the order rates
        self.fills: list[Fill] = []
        self.working: dict[str, _Working] = {}  # by client order id
        # After each fill: (time index, cash) and, per product, (time index, size x multiplier, cost), so that
        # a position is worth size x multiplier x close - cost (cost is 0 for spot, entry value for derivatives).
        self.cash_after: list[tuple[int, Decimal]] = []
        self.holding_after: dict[str, list[tuple[int, float, float]]] = {pid: [] for pid in frames}
        # Closed round trips as (time index, PnL after fees), for the loss-streak guard.
        self.trade_closes: list[tuple[int, float]] = []
        self.trips = RoundTrips()
        self.trip_returns: list[ClosedTrip] = []  # each closed trip's PnL after fees over its entry notional
        self.regimes: dict[str, np.ndarray] = {}  # per product, the regime code after each of its bars
        self.pursuits: dict[str, Pursuit] = {}  # the target being pursued, per product (as live's)
        self.exits_placed: dict[str, int] = {}  # entry id -> exits attached to its parts so far
        self.uncovered: dict[str, Decimal] = {}  # entry id -> what of it filled and no exit covers yet
        self.decided: dict[str, int] = {}  # product -> the last row decided on
        self.bars = dict(bars)  # each product's bar width
        interval = int(FUNDING_INTERVAL / timedelta(microseconds=1)) * 1000  # ns: the bars opening one (domain.funding)
        self.funding_rows = {
            pid: np.flatnonzero(stamps[pid] % interval == 0) for pid, p in catalog.items() if pays_funding(p)
        }
        self.funded = dict.fromkeys(self.funding_rows, 0)  # how many funding rows are already paid
        # What a perpetual-style future accrued and has not settled yet (it settles twice a day).
        self.accrued = dict.fromkeys(self.funding_rows, Decimal(0))

    def clock(self) -> datetime:
        """The simulated clock: the time of the bar being processed."""
        if self._clock_cache[0] != self.now_ns:
            self._clock_cache = (self.now_ns, EPOCH + timedelta(microseconds=self.now_ns // 1000))
        return self._clock_cache[1]

    def run(self, targets: Mapping[str, np.ndarray], intents: Intents) -> None:
        """Process, in time order across all products, the bars where something can happen: the bar after
        a change of target or after orders were decided (a decision) and each bar an order is still
        working on (work)."""
        # (time index, kind, product, row, client order id of the order to work / the state entered)
        queue: list[tuple[int, int, str, int, str]] = []
        for pid, target in targets.items():
            previous = np.r_[0.0, target[:-1]]
            for row in (np.flatnonzero(target != previous) + 1).tolist():
                if row < len(target):
                    queue.append((int(self.position[pid][row]), DECIDE, pid, row, ""))
        for pid, decided in intents.items():
            rows = len(self.stamps[pid])
            queue += [(int(self.position[pid][row + 1]), DECIDE, pid, row + 1, "") for row in decided if row + 1 < rows]
        heapq.heapify(queue)
        self.targets, self.intents = targets, intents
        if self.risk is None:
            self._process(queue, len(self.times))
        else:
            self._run_guarded(queue, self.risk)
        self._accrue_funding(int(self.times_ns[-1]))

    def _process(self, queue: list[tuple[int, int, str, int, str]], until: int) -> None:
        """Handle the queued events before time index `until`."""
        while queue and queue[0][0] < until:
            at, kind, pid, row, tag = heapq.heappop(queue)
            self.now_ns = int(self.times_ns[at])
            if kind == STATE:
                self._enter(TradingState(tag))
                for held_pid, pursuit in self.pursuits.items():  # held by the state before: tried again now
                    if pursuit.held_by is not None and pursuit.held_by != tag:
                        row_now = int(np.searchsorted(self.position[held_pid], at, side="left"))
                        if 0 < row_now < len(self.stamps[held_pid]):
                            heapq.heappush(
                                queue, (int(self.position[held_pid][row_now]), DECIDE, held_pid, row_now, "")
                            )
            elif kind == DECIDE:
                if self.decided.get(pid) == row:  # a retry landing on a bar decided already: live decides once
                    continue
                self.decided[pid] = row
                for order in self._decide(pid, row):
                    heapq.heappush(queue, (at, WORK, pid, row, order.request.client_order_id))
                retry = self._retry_row(pid, row)
                if retry is not None:  # the target is not held: tried again on the bar live would try it
                    heapq.heappush(queue, (int(self.position[pid][retry]), DECIDE, pid, retry, ""))
            elif tag in self.working:  # not a replaced or cancelled order's
                self._work(queue, self.working[tag], row)

    def _work(self, queue: list[tuple[int, int, str, int, str]], order: _Working, row: int) -> None:
        """Give a working order one bar; it keeps working while something is left, until it expires."""
        pid, cid = order.pid, order.request.client_order_id
        filled, triggered = self._fill(pid, row, order)
        order = replace(order, remaining=order.remaining - filled, filled=order.filled + filled, triggered=triggered)
        last = len(self.stamps[pid]) - 1 if order.last_row is None else min(order.last_row, len(self.stamps[pid]) - 1)
        if order.remaining > 0 and row < last:
            self.working[cid] = replace(order, resting=True)
            heapq.heappush(queue, (int(self.position[pid][row + 1]), WORK, pid, row + 1, cid))
        else:
            del self.working[cid]
        if filled and order.exits is not None and row + 1 < len(self.stamps[pid]):
            self._attach_exit(queue, order, row, filled)
        if filled:
            self._fit_exits(pid)
            self._stop_working(pid)

    def _fit_exits(self, pid: str) -> None:
        """After a fill, the product's exits shrink (newest first) until they and the other orders working on
        their side take out no more than the position holds, as live cancels them and places them again at
        what is left (gpttrader.engine.exits); closed, they have nothing left to exit."""
        exits = [(cid, w) for cid, w in self.working.items() if w.pid == pid and w.is_exit]
        if not exits:
            return
        side = exits[0][1].request.side
        on_side = sum((w.remaining for w in self.working.values() if w.pid == pid and w.request.side is side), ZERO)
        held = self.portfolio.size(pid) if side is Side.SELL else -self.portfolio.size(pid)
        excess = on_side - max(held, ZERO)
        product = self.catalog[pid]
        for cid, exit_order in reversed(exits):
            if excess <= 0:
                break
            limit = exit_order.request.limit_price or ZERO
            left = exit_size(exit_order.remaining - min(excess, exit_order.remaining), held, product, limit)
            excess -= exit_order.remaining - left
            if left:
                self.working[cid] = replace(exit_order, remaining=left)
            else:
                del self.working[cid]

    def _attach_exit(
        self, queue: list[tuple[int, int, str, int, str]], entry: _Working, row: int, filled: Decimal
    ) -> None:
        """Cover what the entry has filled and no exit covers yet with an exit of its own (`<entry>-x<n>`),
        working from the next bar, as live places them (gpttrader.engine.exits): at most what the position
        holds beyond the exits already working on it, and only once that reaches the product's minimum."""
        assert entry.exits is not None
        product = self.catalog[entry.pid]
        side = entry.request.side.opposite
        entry_id = entry.request.client_order_id
        uncovered = self.uncovered.get(entry_id, Decimal(0)) + filled
        working = sum(
            (w.remaining for w in self.working.values() if w.pid == entry.pid and w.request.side is side),
            Decimal(0),
        )
        room = abs(self.portfolio.size(entry.pid)) - working
        size = exit_size(uncovered, room, product, entry.exits.limit(product, entry.request.side))
        self.uncovered[entry_id] = uncovered - size
        if not size:
            return
        self.exits_placed[entry_id] = n = self.exits_placed.get(entry_id, 0) + 1
        request = entry.exits.order(self.ids.exit(entry_id, n), product, entry.request.side, size)
        cid = request.client_order_id
        self.orders.append(request)
        self.working[cid] = _Working(entry.pid, request, size, is_exit=True)
        heapq.heappush(queue, (int(self.position[entry.pid][row + 1]), WORK, entry.pid, row + 1, cid))

    def _run_guarded(self, queue: list[tuple[int, int, str, int, str]], risk: LiveRiskManager) -> None:
        inputs = _GuardInputs(self, risk)
        tracker = EquityTracker(float(self.initial_cash))
        streak = LossStreak()
        for start in range(0, len(self.times), CHUNK):
            stop = min(start + CHUNK, len(self.times))
            saved = self._save(queue)
            entered: list[tuple[int, TradingState]] = []  # state changes found inside this chunk
            while True:
                self._process(queue, stop)
                self._accrue_funding(int(self.times_ns[stop - 1]))
                trial = copy.deepcopy((tracker, streak))
                transitions = inputs.transitions(risk, start, stop, *trial)
                new = [
                    (start + t.index + 1, state)
                    for t, state in risk.escalations(transitions)
                    if (start + t.index + 1, state) not in entered
                ]
                if new and new[0][0] < stop:  # the state moves inside the chunk: replay it with the move
                    entered.append(new[0])
                    self._restore(saved, queue)
                    for at, state in entered:
                        heapq.heappush(queue, (at, STATE, "", -1, state.value))
                    continue
                if new and new[0][0] < len(self.times):
                    heapq.heappush(queue, (new[0][0], STATE, "", -1, new[0][1].value))
                tracker, streak = trial
                risk.apply(transitions, self.times[start:stop])
                break

    def _save(self, queue: list[tuple[int, int, str, int, str]]) -> dict[str, Any]:
        return {
            "portfolio": copy.deepcopy(self.portfolio),
            "working": dict(self.working),
            "queue": list(queue),
            "state": self.state,
            "funded": dict(self.funded),
            "accrued": dict(self.accrued),
            "trips": copy.deepcopy(self.trips),
            "sizing": copy.deepcopy((self.risk.edge, self.risk.regimes)) if self.risk else None,
            "pursuits": copy.deepcopy(self.pursuits),
            "exits_placed": dict(self.exits_placed),
            "uncovered": dict(self.uncovered),
            "decided": dict(self.decided),
            "lengths": (
                len(self.orders),
                len(self.sent),
                len(self.fills),
                len(self.cash_after),
                len(self.trade_closes),
                len(self.trip_returns),
            ),
            "holdings": {pid: len(changes) for pid, changes in self.holding_after.items()},
            "journal": len(self.journal.events),
            "counters": Counter(self.risk.counters if self.risk else ()),
        }

    def _restore(self, saved: dict[str, Any], queue: list[tuple[int, int, str, int, str]]) -> None:
        self.portfolio = copy.deepcopy(saved["portfolio"])
        self._valuation = (("", -1, -1), {}, ZERO)  # of a history being replayed differently
        self.working = dict(saved["working"])
        queue[:] = saved["queue"]
        self.state = saved["state"]
        self.funded = dict(saved["funded"])
        self.accrued = dict(saved["accrued"])
        self.trips = copy.deepcopy(saved["trips"])
        self.pursuits = copy.deepcopy(saved["pursuits"])
        self.exits_placed = dict(saved["exits_placed"])
        self.uncovered = dict(saved["uncovered"])
        self.decided = dict(saved["decided"])
        if self.risk is not None:
            self.risk.edge, self.risk.regimes = copy.deepcopy(saved["sizing"])
        orders, sent, fills, cash, closes, returns = saved["lengths"]
        del self.orders[orders:], self.sent[sent:], self.fills[fills:], self.cash_after[cash:]
        del self.trade_closes[closes:]
        del self.trip_returns[returns:]
        for pid, length in saved["holdings"].items():
            del self.holding_after[pid][length:]
        del self.journal.events[saved["journal"] :]
        if self.risk is not None:
            self.risk.counters = Counter(saved["counters"])

    def _enter(self, state: TradingState) -> None:
        """The trading state moved: working orders that would not shrink a position stop working."""
        self.state = state
        for pid in {w.pid for w in self.working.values()}:
            self._stop_working(pid)

    def _stop_working(self, pid: str) -> None:
        """Under reduce-only or halted, the product's working entries that would not shrink its position,
        judged together after its exits (which never stop), stop working (gpttrader.engine.order_manager.
        stopped_by, live's rule; live judges them each cycle, the backtest at each change of state or
        position)."""
        if self.state is TradingState.ACTIVE:
            return
        exits = [(w.request.side, w.remaining) for w in self.working.values() if w.pid == pid and w.is_exit]
        entries = [(cid, w) for cid, w in self.working.items() if w.pid == pid and not w.is_exit]
        working = [(w.request.side, w.remaining) for _, w in entries]
        stops = stopped_by(self.state, self.portfolio.size(pid), working, kept=exits)
        for (cid, order), stop in zip(entries, stops, strict=True):
            if stop:
                del self.working[cid]
                self.journal.append(
                    EventType.RISK_ORDER_CANCELLED,
                    {"client_order_id": cid, "remaining": str(order.remaining), "state": str(self.state)},
                    time=self.clock(),
                )

    def _candle(self, pid: str, row: int) -> Candle:
        c = self.columns[pid]
        return Candle(
            pid,
            pd.Timestamp(int(self.stamps[pid][row]), tz="UTC").to_pydatetime(),
            *(Decimal(repr(float(c[k][row]))) for k in ("open", "high", "low", "close", "volume")),
        )

    def _marks(self, pid: str, row: int) -> dict[str, Decimal]:
        """Prices to value the portfolio at when deciding: this bar's open, others' last close before it."""
        now = self.stamps[pid][row]
        marks = {pid: Decimal(repr(float(self.columns[pid]["open"][row])))}
        for other in self.columns:
            if other != pid:
                last = int(np.searchsorted(self.stamps[other], now, side="left")) - 1
                marks[other] = Decimal(repr(float(self.columns[other]["close"][max(last, 0)])))
        return marks

    def _accrue_funding(self, now: int) -> None:
        """Charge every product that pays funding what is due at bars up to the time `now` (ns), with the
        position it held going into each, and settle it into cash when the product settles
        (gpttrader.domain.funding's rule, every venue's: a perpetual each hour, a perpetual-style future
        twice a day); positions only change at fills, and this runs before every one. A bar wider than the
        funding interval pays every interval it spans, at its close: a backtest sees no price inside a bar."""
        for pid, rows in self.funding_rows.items():
            due = int(np.searchsorted(self.stamps[pid][rows], now, side="right"))
            size = self.portfolio.size(pid)
            if due > self.funded[pid] and (size or self.accrued[pid]):
                product = self.catalog[pid]
                rate = self.model.funding_rate_per_hour
                intervals = max(self.bars[pid] // FUNDING_INTERVAL, 1)
                for at in rows[self.funded[pid] : due].tolist():
                    close = Decimal(repr(float(self.columns[pid]["close"][at])))
                    payment = funding_payment(size, close, product.multiplier, rate) * intervals
                    self.accrued[pid], settled = accrue_funding(
                        self.accrued[pid], payment, product, self._bar_time(pid, at)
                    )
                    if settled:
                        self.portfolio.pay_funding(product, settled)
                        self.cash_after.append((int(self.position[pid][at]), self.portfolio.cash))
            self.funded[pid] = max(self.funded[pid], due)

    def _decide(self, pid: str, row: int) -> list[_Working]:
        """The orders decided after bar `row - 1`, to work from bar `row`. A new target replaces every order
        of the product still working; new intents replace its entries (attached exits stay)."""
        self._accrue_funding(int(self.stamps[pid][row]) - 1)
        product = self.catalog[pid]
        fee_rate = self.model.fees.taker
        if self.risk is not None:  # the regime after the bar the decision was made on
            regime = regime_of(int(self.regimes[pid][row - 1]))
            if regime is not None:
                self.risk.set_regime(pid, regime, self.clock())
        placed: list[_Working] = []
        if pid not in self.intents:
            for cid in [cid for cid, w in self.working.items() if w.pid == pid]:
                del self.working[cid]
            request = self._pursue(pid, row, product, fee_rate)
            if request is not None:
                placed.append(_Working(pid, request, request.size))
        else:
            for cid in [cid for cid, w in self.working.items() if w.pid == pid and not w.is_exit]:
                del self.working[cid]
            marks = self._marks(pid, row)
            equity = self.portfolio.equity(marks)
            decided_on = self._bar_time(pid, row - 1)
            entries = [i for i in self.intents[pid][row - 1] if isinstance(i, OrderIntent)]  # CancelEntries: none
            for i, intent in enumerate(entries):
                request = order_for_intent(
                    client_order_id=self.ids.decision(pid, decided_on, self.strategy_name, i),
                    product=product,
                    intent=intent,
                    sellable=self.portfolio.size(pid),
                    marks=marks,
                    equity=equity,
                    sizer=self.sizer,
                    fee_rate=fee_rate,
                    spendable=self.portfolio.cash,
                    strategy_name=self.strategy_name,
                )
                if request is not None and self._allowed(request, product, marks, equity):
                    last = self._last_row(pid, entry_expiry(decided_on, self.bars[pid], intent.expire_bars))
                    placed.append(_Working(pid, request, request.size, last_row=last, exits=ExitPlan.of(intent)))
        for order in placed:
            self.orders.append(order.request)
            self.sent.append(self.clock())
            self.working[order.request.client_order_id] = order
        return placed

    def _pursue(
        self,
        pid: str,
        row: int,
        product: Product,
        fee_rate: Decimal,
    ) -> OrderRequest | None:
        """The target decided after bar `row - 1`, pursued as live pursues it (gpttrader.engine.pursuit): its
        goal fixed when it changes, the gap to the position ordered, and an attempt that placed nothing (the
        risk manager refused it) tried again after 1, 2, 4, 8 and then every 16 bars while the target holds.
        Returns the order placed, if any. The portfolio is valued only when an order is sized or checked: most
        of a fast path's decisions (a short signal on spot while flat) need neither."""
        target = float(self.targets[pid][row - 1])
        pursuit = self.pursuits.get(pid)
        if pursuit is None or pursuit.target != target:
            pursuit = self.pursuits[pid] = Pursuit(target, None)
        decided_on = self._bar_time(pid, row - 1)
        held = self.portfolio.size(pid)
        price = Decimal(repr(float(self.columns[pid]["open"][row])))  # the mark: this bar's open
        signed = pursuit.next_change(
            held=held,  # the product's working orders were withdrawn: nothing else works toward the goal
            product=product,
            goal_of=lambda: target_size(
                product=product,
                target=target,
                price=price,
                equity=self._valued(pid, row)[1],
                sizer=self.sizer,
                strategy_name=self.strategy_name,
            ),
            bar_time=decided_on,
            state=self.state,
            spendable=self.portfolio.cash,
            spend_price=price,
            fee_rate=fee_rate,
        )
        if signed is None:
            return None
        request = market_order(self.ids.decision(pid, decided_on, self.strategy_name, 0), product, signed)
        placed = self._allowed(request, product, *self._valued(pid, row))
        pursuit.after(decided_on, self.bars[pid], placed=placed, state=self.state, position=held, change=signed)
        return request if placed else None

    def _valued(self, pid: str, row: int) -> tuple[dict[str, Decimal], Decimal]:
        """The marks of a decision on `pid`'s bar `row` and the portfolio's equity at them, worked out once
        per decision (the cash changes only at fills and funding, each of which adds to `cash_after`)."""
        key = (pid, row, len(self.cash_after))
        if self._valuation[0] != key:
            marks = self._marks(pid, row)
            self._valuation = (key, marks, self.portfolio.equity(marks))
        return self._valuation[1], self._valuation[2]

    def _last_row(self, pid: str, expiry: datetime | None) -> int | None:
        """The last row an entry expiring at `expiry` works on: the last bar that closes by then."""
        if expiry is None:
            return None
        last_open = int(((expiry - self.bars[pid]) - EPOCH) / timedelta(microseconds=1)) * 1000
        return int(np.searchsorted(self.stamps[pid], last_open, side="right")) - 1

    def _bar_time(self, pid: str, row: int) -> datetime:
        return EPOCH + timedelta(microseconds=int(self.stamps[pid][row]) // 1000)

    def _retry_row(self, pid: str, row: int) -> int | None:
        """The row after `row` whose decision tries the product's target again (the bar after the one at its
        retry time), or None when nothing is to be tried."""
        pursuit = self.pursuits.get(pid)
        if pursuit is None or pursuit.retry_at is None:
            return None
        stamp = int((pursuit.retry_at - EPOCH) / timedelta(microseconds=1)) * 1000
        retry = int(np.searchsorted(self.stamps[pid], stamp, side="left")) + 1
        return retry if row < retry < len(self.stamps[pid]) else None

    def _allowed(self, request: OrderRequest, product: Product, marks: dict[str, Decimal], equity: Decimal) -> bool:
        """The risk manager's pre-trade checks, under the state in force (always true without a manager)."""
        if self.risk is None:
            return True
        positions = {
            other: holding.position(marks[other]) for other, holding in self.portfolio.holdings.items() if holding.size
        }
        now = self.clock()  # the mark is this bar's open: as fresh as a mark gets
        price = request.limit_price or marks[request.product_id]
        ctx = TradeContext(
            request,
            product,
            price,
            equity,
            positions,
            self.state,
            now,
            now,
            sent_at=self._sent_since(now - self.risk.limits.order_rate.lookback),
        )
        decision = self.risk.check_order(ctx)
        if not decision.passed:
            self.risk.record_rejection(ctx, decision)
        return decision.passed

    def _sent_since(self, since: datetime) -> tuple[datetime, ...]:
        """When each decided order sent at or after `since` went out, on the simulated clock, for the
        order-rate limits (a refused order was never sent; exits are not decisions: live, they do not pass
        the risk manager)."""
        return tuple(self.sent[bisect_left(self.sent, since) :])

    def _fill(self, pid: str, row: int, order: _Working) -> tuple[Decimal, bool]:
        """Try a working order against one bar: the size filled (0 if none) and whether its stop has fired."""
        product, request = self.catalog[pid], order.request
        candle = self._candle(pid, row)
        self._accrue_funding(int(self.stamps[pid][row]) - 1)
        outcome = self.model.fill(
            request, candle, product, remaining=order.remaining, resting=order.resting, triggered=order.triggered
        )
        triggered = order.triggered or outcome.triggered
        execution = outcome.execution
        if execution is None:
            return Decimal(0), triggered
        fill = Fill(
            f"{request.client_order_id}-{len(self.fills)}",
            request.client_order_id,
            pid,
            request.side,
            execution.price,
            execution.size,
            execution.fee,
            execution.liquidity,
            candle.time,
        )
        self.portfolio.apply(fill, product)
        self.fills.append(fill)
        at = int(self.position[pid][row])
        holding = self.portfolio.holding(product)
        trip = self.trips.apply(fill, product.multiplier)  # the round trip it closed, as live books it
        if trip is not None:
            self.trade_closes.append((at, float(trip.pnl)))
            if trip.fraction is not None:
                self.trip_returns.append((candle.time, pid, trip.fraction))
                if self.risk is not None:  # walk forward: decisions from now on see this trip
                    self.risk.record_trip(self.strategy_name, pid, trip.fraction, self.clock())
        exposure = holding.size * product.multiplier
        cost = exposure * holding.entry_price if product.is_derivative else Decimal(0)
        self.cash_after.append((at, self.portfolio.cash))
        self.holding_after[pid].append((at, float(exposure), float(cost)))
        return execution.size, triggered

    def values(self, start: int, stop: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Equity (cash plus every position at its close) and each product's signed notional, for the time
        indices [start, stop); both hold between fills, so both are computed vectorized."""
        equity = _step_series(start, stop, self.cash_after, 1, float(self.initial_cash))
        notional = {}
        for pid, changes in self.holding_after.items():
            close = self.closes[pid][start:stop]
            size = _step_series(start, stop, changes, 1, 0.0)
            cost = _step_series(start, stop, changes, 2, 0.0)
            equity = equity + np.where(size != 0, size * close - cost, 0.0)
            notional[pid] = size * close
        return equity, notional

    def curves(self) -> tuple[pd.Series, pd.Series]:
        """The equity curve and the gross exposure (the positions' notional as a share of equity)."""
        equity, notional = self.values(0, len(self.times))
        gross = np.sum([np.abs(n) for n in notional.values()], axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(equity > 0, gross / equity, 0.0)
        return pd.Series(equity, index=self.times, name="equity"), pd.Series(share, index=self.times, name="exposure")


class _GuardInputs:
    """The guard metrics of a backtest. Volatility and correlations depend on prices alone and are computed
    once for the whole run; equity, exposure and the loss streak depend on the trading and are computed
    chunk by chunk, carrying their state from one chunk to the next."""

    def __init__(self, engine: _Engine, risk: LiveRiskManager) -> None:
        self.engine, self.watched = engine, risk.metrics()
        self.volatility: dict[str, np.ndarray] = {}
        self.correlations: dict[tuple[str, str], np.ndarray] = {}
        windows = risk.windows
        if "volatility" in self.watched:
            for pid, rows in engine.position.items():
                bar_seconds = engine.bars[pid].total_seconds()
                own = annualized_volatility(engine.columns[pid]["close"], windows.volatility, bar_seconds)
                spread = np.full(len(engine.times), np.nan)
                spread[rows] = own
                self.volatility[pid] = pd.Series(spread).ffill().to_numpy()
        if "concentration" in self.watched and len(engine.closes) > 1:
            self.correlations = rolling_correlations(engine.closes, windows.correlation)
        # The spread and depth guards read the depth model's book, as paper does (its levels are set in basis
        # points and in quote value, so its spread and depth are the same at every price).
        self.books: dict[str, tuple[float, float]] = {}
        if {"spread_bps", "depth"} & self.watched:
            for pid, product in engine.catalog.items():
                book = _model_book(product, Decimal(repr(float(engine.columns[pid]["close"][0]))))
                self.books[pid] = (float(book.spread_bps), float(book.depth(DEPTH_BAND_BPS)))

    def transitions(
        self, risk: LiveRiskManager, start: int, stop: int, tracker: EquityTracker, streak: LossStreak
    ) -> list[GuardTransition]:
        engine = self.engine
        equity, notional = engine.values(start, stop)
        found: list[GuardTransition] = []
        for metric, values in tracker.update(engine.times_ns[start:stop], equity).items():
            found += risk.guard_transitions(metric, values)
        for pid, values in self.volatility.items():
            found += risk.guard_transitions("volatility", values[start:stop], pid)
        for pid, (spread, depth) in self.books.items():
            found += risk.guard_transitions("spread_bps", np.full(stop - start, spread), pid)
            found += risk.guard_transitions("depth", np.full(stop - start, depth), pid)
        if "concentration" in self.watched:
            with np.errstate(divide="ignore", invalid="ignore"):
                weights = {pid: np.where(equity > 0, n / equity, 0.0) for pid, n in notional.items()}
            pairs = {key: c[start:stop] for key, c in self.correlations.items()}
            found += risk.guard_transitions("concentration", correlated_exposure(weights, pairs))
        closes = [(at, pnl) for at, pnl in engine.trade_closes if start <= at < stop]
        if closes:
            rows = [at - start for at, _ in closes]
            counts = streak.update(pnl for _, pnl in closes)
            found += [replace(t, index=rows[t.index]) for t in risk.guard_transitions("consecutive_losses", counts)]
        return found


def _model_book(product: Product, mid: Decimal) -> OrderBook:
    bids, asks = (tuple(synthetic_book(product, mid, side, levels=BOOK_LEVELS)) for side in (Side.BUY, Side.SELL))
    return OrderBook(product.product_id, bids, asks, EPOCH)


def _step_series(start: int, stop: int, changes: list[Any], column: int, initial: float) -> np.ndarray:
    """Over time indices [start, stop): a series holding, from each change's time index (changes[i][0]),
    its value (changes[i][column]), and before the first one the last value set earlier, or `initial`."""
    first = bisect_left(changes, start, key=lambda c: c[0])
    last = bisect_left(changes, stop, key=lambda c: c[0])
    before = float(changes[first - 1][column]) if first else initial
    if first == last:
        return np.full(stop - start, before)
    at = np.fromiter((c[0] for c in changes[first:last]), dtype=np.int64, count=last - first) - start
    values = np.r_[before, np.fromiter((float(c[column]) for c in changes[first:last]), dtype=float)]
    # For every index, the number of changes at or before it picks the value in force.
    return np.asarray(values[np.searchsorted(at, np.arange(stop - start), side="right")], dtype=float)
