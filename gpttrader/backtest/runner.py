"""The backtest: the shared engine parts (strategy, sizing, the simulated fill model, the portfolio) on a
simulated clock over history.

Two ways through the same rules, with the same results:
- fast (default): the strategy's vectorized targets give the bars where a decision changes; only there
  (and while an order is still filling) does Python do per-bar work. The equity curve between trades is
  computed vectorized, as cash plus positions times closes.
- step: the decisions come from `on_bar`, bar by bar with the state the live loop keeps for a strategy,
  instead of from the vectorized targets; execution is the same. Tests hold the two to identical orders,
  fills and equity, which is what lets the fast path stand for the live decisions.
A decision made at a bar's close is executed on the next bar (market orders at its open by default).
"""

import heapq
from collections.abc import Mapping
from decimal import Decimal
from typing import Literal

import numpy as np
import pandas as pd

from gpttrader.backtest.metrics import compute_metrics
from gpttrader.backtest.result import BacktestResult
from gpttrader.backtest.trades import round_trips
from gpttrader.brokers.simulated import FillModel
from gpttrader.domain import Candle, Fill, OrderRequest, Product, ProductType
from gpttrader.engine.portfolio import Portfolio
from gpttrader.engine.sizing import FixedFractionSizer
from gpttrader.engine.targets import order_for_target
from gpttrader.strategy import Strategy, bars

DECIDE, WORK = 0, 1  # at one time, decisions come before work: a new decision replaces a working order


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


def run_backtest(
    strategy: Strategy,
    candles: pd.DataFrame | Mapping[str, pd.DataFrame],
    *,
    product_id: str = "BTC-USD",
    products: Mapping[str, Product] | None = None,
    initial_cash: Decimal = Decimal(1_000_000),
    fill_model: FillModel | None = None,
    sizer: FixedFractionSizer | None = None,
    mode: Literal["fast", "step"] = "fast",
) -> BacktestResult:
    if initial_cash <= 0:
        raise ValueError(f"initial_cash must be positive, got {initial_cash}")
    frames = {product_id: candles} if isinstance(candles, pd.DataFrame) else dict(candles)
    if not frames:
        raise ValueError("no candles to backtest")
    for pid, frame in frames.items():
        _check_frame(pid, frame)
    catalog = {pid: (products or {}).get(pid) or default_product(pid) for pid in frames}
    model = fill_model or FillModel()
    sizing = sizer or FixedFractionSizer(Decimal(1) / len(frames))
    # int64 nanoseconds: pandas keeps a file's own resolution (often ms), so the unit is set, not assumed.
    stamps = {
        pid: pd.DatetimeIndex(pd.to_datetime(f["time"], utc=True)).as_unit("ns").asi8 for pid, f in frames.items()
    }
    union = np.unique(np.concatenate(list(stamps.values())))
    times = pd.DatetimeIndex(pd.to_datetime(union, utc=True, unit="ns"))
    position = {pid: np.searchsorted(union, s) for pid, s in stamps.items()}
    targets = _targets(strategy, frames, mode)
    portfolio = Portfolio(cash=initial_cash)
    engine = _Engine(portfolio, catalog, model, sizing, frames, stamps, position)
    engine.run(targets)
    equity, exposure = engine.curves(initial_cash, times)
    result = BacktestResult(
        equity=equity,
        exposure=exposure,
        trades=round_trips(engine.fills, catalog),
        orders=engine.orders,
        fills=engine.fills,
        initial_cash=initial_cash,
        final_cash=portfolio.cash,
        fees_paid=portfolio.fees_paid,
    )
    result.metrics = compute_metrics(result)
    return result


def _check_frame(product_id: str, frame: pd.DataFrame) -> None:
    missing = [c for c in ("time", "open", "high", "low", "close", "volume") if c not in frame.columns]
    if missing:
        raise ValueError(f"{product_id} candles lack columns {', '.join(missing)}")
    if frame.empty:
        raise ValueError(f"{product_id} candles are empty")
    if not pd.Series(frame["time"]).is_monotonic_increasing or not pd.Series(frame["time"]).is_unique:
        raise ValueError(f"{product_id} candles are not sorted by time with unique timestamps")


def _targets(strategy: Strategy, frames: Mapping[str, pd.DataFrame], mode: str) -> dict[str, np.ndarray]:
    if mode == "fast":
        return {pid: strategy.targets(frame) for pid, frame in frames.items()}
    if mode != "step":
        raise ValueError(f"mode must be fast or step, got {mode!r}")
    stepped = {}
    for pid, frame in frames.items():
        state = strategy.new_state()
        stepped[pid] = np.array([strategy.on_bar(bar, state).target for bar in bars(frame, pid)])
    return stepped


class _Engine:
    def __init__(
        self,
        portfolio: Portfolio,
        catalog: Mapping[str, Product],
        model: FillModel,
        sizer: FixedFractionSizer,
        frames: Mapping[str, pd.DataFrame],
        stamps: Mapping[str, np.ndarray],
        position: Mapping[str, np.ndarray],
    ):
        self.portfolio, self.catalog, self.model, self.sizer = portfolio, catalog, model, sizer
        self.position = position
        self.columns = {
            pid: {c: f[c].to_numpy() for c in ("open", "high", "low", "close", "volume")} for pid, f in frames.items()
        }
        self.stamps = stamps  # bar times as int64 nanoseconds since the epoch, UTC
        self.orders: list[OrderRequest] = []
        self.fills: list[Fill] = []
        # After each fill: (time index, cash) and, per product, (time index, size x multiplier, cost), so that
        # a position is worth size x multiplier x close - cost (cost is 0 for spot, entry value for derivatives).
        self.cash_after: list[tuple[int, Decimal]] = []
        hour = 3_600_000_000_000
        self.funding_rows = {
            pid: np.flatnonzero(stamps[pid] % hour == 0)
            for pid, p in catalog.items()
            if p.product_type is ProductType.PERPETUAL
        }
        self.funded = dict.fromkeys(self.funding_rows, 0)  # how many funding rows are already paid
        self.holding_after: dict[str, list[tuple[int, float, float]]] = {pid: [] for pid in frames}

    def run(self, targets: Mapping[str, np.ndarray]) -> None:
        """Process, in time order across all products, the bars where something can happen: the bar after
        a change of target (a decision) and each bar an order is still filling on (work)."""
        # (time index, DECIDE or WORK, product, row, client order id of the order to work, "" for a decision)
        queue: list[tuple[int, int, str, int, str]] = []
        for pid, target in targets.items():
            previous = np.r_[0.0, target[:-1]]
            for row in (np.flatnonzero(target != previous) + 1).tolist():
                if row < len(target):
                    queue.append((int(self.position[pid][row]), DECIDE, pid, row, ""))
        heapq.heapify(queue)
        working: dict[str, tuple[OrderRequest, Decimal]] = {}
        while queue:
            _, kind, pid, row, order_id = heapq.heappop(queue)
            if kind == DECIDE:
                working.pop(pid, None)  # a new decision replaces whatever was still filling
                request = self._decide(pid, row, float(targets[pid][row - 1]))
                if request is not None:
                    working[pid] = (request, request.size)
                    heapq.heappush(queue, (int(self.position[pid][row]), WORK, pid, row, request.client_order_id))
            elif pid in working and working[pid][0].client_order_id == order_id:  # not a replaced order's
                request, remaining = working[pid]
                remaining -= self._fill(pid, row, request, remaining)
                if remaining > 0 and row + 1 < len(targets[pid]):
                    working[pid] = (request, remaining)
                    heapq.heappush(queue, (int(self.position[pid][row + 1]), WORK, pid, row + 1, order_id))
                else:
                    del working[pid]
        self._accrue_funding(max(int(s[-1]) for s in self.stamps.values()))

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
        """Charge every perpetual the funding due at bars up to the time `now` (ns), with the position it
        held going into each; positions only change at fills, and this runs before every one."""
        for pid, rows in self.funding_rows.items():
            due = int(np.searchsorted(self.stamps[pid][rows], now, side="right"))
            product = self.catalog[pid]
            size = self.portfolio.size(pid)
            if due > self.funded[pid] and size:
                closes = self.columns[pid]["close"][rows[self.funded[pid] : due]]
                rate = self.model.funding_rate_per_hour
                for at, close in zip(rows[self.funded[pid] : due], closes, strict=True):
                    payment = size * Decimal(repr(float(close))) * product.multiplier * rate
                    self.portfolio.pay_funding(product, payment)
                    self.cash_after.append((int(self.position[pid][at]), self.portfolio.cash))
            self.funded[pid] = max(self.funded[pid], due)

    def _decide(self, pid: str, row: int, target: float) -> OrderRequest | None:
        self._accrue_funding(int(self.stamps[pid][row]) - 1)
        request = order_for_target(
            client_order_id=f"bt-{pid}-{row}",
            product=self.catalog[pid],
            target=target,
            portfolio=self.portfolio,
            marks=self._marks(pid, row),
            sizer=self.sizer,
            fee_rate=self.model.fees.taker,
        )
        if request is None:
            return None
        self.orders.append(request)
        return request

    def _fill(self, pid: str, row: int, request: OrderRequest, remaining: Decimal) -> Decimal:
        """Try the working order against one bar; returns the size filled (0 if none)."""
        product = self.catalog[pid]
        candle = self._candle(pid, row)
        self._accrue_funding(int(self.stamps[pid][row]) - 1)
        execution = self.model.fill(request, candle, product, remaining=remaining).execution
        if execution is None:
            return Decimal(0)
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
        exposure = holding.size * product.multiplier
        cost = exposure * holding.entry_price if product.is_derivative else Decimal(0)
        self.cash_after.append((at, self.portfolio.cash))
        self.holding_after[pid].append((at, float(exposure), float(cost)))
        return execution.size

    def curves(self, initial_cash: Decimal, times: pd.DatetimeIndex) -> tuple[pd.Series, pd.Series]:
        """Equity (cash plus every position at its close) and gross exposure (the positions' notional as a
        share of equity); both hold between fills, so both are computed vectorized."""
        equity = _step_series(len(times), [(at, float(value)) for at, value in self.cash_after], float(initial_cash))
        gross = np.zeros(len(times))
        for pid, changes in self.holding_after.items():
            close = np.full(len(times), np.nan)
            close[self.position[pid]] = self.columns[pid]["close"]
            close = np.nan_to_num(pd.Series(close).ffill().to_numpy())
            size = _step_series(len(times), [(at, e) for at, e, _ in changes], 0.0)
            cost = _step_series(len(times), [(at, c) for at, _, c in changes], 0.0)
            equity = equity + np.where(size != 0, size * close - cost, 0.0)
            gross += np.abs(size) * close
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(equity > 0, gross / equity, 0.0)
        return pd.Series(equity, index=times, name="equity"), pd.Series(share, index=times, name="exposure")


def _step_series(length: int, changes: list[tuple[int, float]], start: float) -> np.ndarray:
    """A series that is `start` until the first change and then holds each change's value from its index
    (of several changes at one index, the last)."""
    if not changes:
        return np.full(length, start)
    at = np.array([c[0] for c in changes])
    values = np.r_[start, [c[1] for c in changes]]
    # For every bar, the number of changes at or before it picks the value in force.
    return np.asarray(values[np.searchsorted(at, np.arange(length), side="right")], dtype=float)
