"""Kelly sizing in the backtest: the prod profile trades, each decision is sized from the round trips
closed before it and no later one, with the regime of the bar it is decided on; the result and the report
show the estimates and regimes used."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from gpttrader.backtest import BacktestResult, run_backtest
from gpttrader.brokers.simulated import FeeSchedule, FillModel
from gpttrader.config import load_config
from gpttrader.config.guards import Guards
from gpttrader.domain import OrderType, Side
from gpttrader.marketdata import load_candles
from gpttrader.reports import write_html
from gpttrader.risk import (
    EdgeRecord,
    LiveRiskManager,
    MarketRegime,
    MemoryJournal,
    RegimeSettings,
    TradingState,
    classify_regimes,
)
from gpttrader.risk.regime import regime_of
from gpttrader.strategy import Bar, MovingAverageCross, OrderIntent

ROOT = Path(__file__).resolve().parents[3]
FEES = FillModel(fees=FeeSchedule(maker=Decimal("0.006"), taker=Decimal("0.006")))


def hourly() -> pd.DataFrame:
    return load_candles("BTC-USD", "ONE_HOUR", data_dir=ROOT / "data")


def prod(clean_env: dict[str, str], guards: bool = True, **sizing: object) -> LiveRiskManager:
    off = {} if guards else {name: {"enabled": False} for name in Guards.model_fields}
    config = load_config("prod", overrides={"symbols": ["BTC-USD"], "sizing": sizing, "guards": off})
    return LiveRiskManager.from_config(config, MemoryJournal())


def sizings(result: BacktestResult) -> list[dict[str, Any]]:
    return [{"time": e.time, **e.payload} for e in result.risk_events if e.type == "risk.sizing_cut"]


def test_the_prod_profile_trades(clean_env: dict[str, str], tmp_path: Path) -> None:
    """`gpttrader backtest --strategy ma_cross --product BTC-USD --granularity ONE_HOUR --risk prod --cash
    100000`: it made no trade at all (every order sized 0, `no_edge_estimate`). Now the first round trips
    are sized at the floor, the record builds, and the report shows the estimates and regimes used."""
    candles = hourly()
    result = run_backtest(
        MovingAverageCross(10, 30), candles, initial_cash=Decimal(100_000), fill_model=FEES, risk=prod(clean_env)
    )
    assert result.metrics["trades"] > 0
    assert all("no_edge_estimate" not in s["reasons"] for s in sizings(result))
    assert any(str(r).startswith("kelly_floor_0_of_20") for s in sizings(result) for r in s["reasons"])
    edges = result.edge_frame()
    assert len(edges) == len(result.trip_returns) > 0
    assert edges["trades"].tolist() == list(range(1, len(edges) + 1))
    assert edges["kelly"].dtype == float
    regimes = result.regime_frame()
    assert not regimes.empty
    assert set(regimes["regime"]) <= {r.value for r in MarketRegime}
    page = write_html(result, {"BTC-USD": candles}, tmp_path / "report.html").read_text()
    assert "Edge estimates" in page
    assert "Market regimes used in sizing" in page


def test_each_decision_sees_only_the_trips_closed_before_it(clean_env: dict[str, str]) -> None:
    """With the floor kept on (a minimum record never reached) every decision is sized and recorded, and
    the estimate it used is the one computed from the trips closed strictly before its bar: a trip that
    closes on the decision's own bar (a fill at its open, after the decision) is not in it."""
    risk = prod(clean_env, guards=False, kelly_min_trades=1_000_000, kelly_prior_trades=4)
    strategy = EntryEveryFourBars()
    result = run_backtest(strategy, hourly(), initial_cash=Decimal(100_000), fill_model=FEES, risk=risk)
    decisions = sizings(result)
    trips = result.trip_returns
    assert len(decisions) > 500
    assert len(trips) > 100
    closing = {at for at, _, _ in trips}
    assert sum(d["time"] in closing for d in decisions) >= 3  # decided on the bar a bracket closes a trip
    window = timedelta(days=risk.edge.window.days)  # only the last window's trips count
    for decision in decisions:
        at_decision = decision["time"]
        before = [(at, fraction) for at, _, fraction in trips if at_decision - window <= at < at_decision]
        assert decision["trades"] == len(before)
        record = EdgeRecord(prior_trades=4, window=window)
        for at, fraction in before:
            record.record(strategy.name, "BTC-USD", fraction, at)
        expected = record.estimate(strategy.name, "BTC-USD", at_decision)
        shown = [
            None if v is None else Decimal(str(v))
            for v in (decision["win_rate"], decision["avg_win"], decision["avg_loss"])
        ]
        assert shown == [expected.win_rate, expected.avg_win, expected.avg_loss]
    assert any(d["trades"] for d in decisions)  # later decisions do see trips


@dataclass(frozen=True)
class EntryEveryFourBars:
    """A limit buy every fourth bar with a tight bracket: an exit often closes a trip on the bar of the
    next entry, after that entry was decided (a decision precedes the fills of its bar)."""

    name: str = "every_four"
    warmup: int = 1

    def new_state(self) -> list[int]:
        return [0]

    def on_bar(self, bar: Bar, state: list[int]) -> tuple[OrderIntent, ...]:
        state[0] += 1
        if state[0] % 4:
            return ()
        entry = {"order_type": OrderType.LIMIT, "limit_price": bar.close * 0.999, "expire_bars": 2}
        bracket = {"take_profit": bar.close * 1.003, "stop_loss": bar.close * 0.995}
        return (OrderIntent(bar.product_id, Side.BUY, fraction=0.5, **entry, **bracket),)  # type: ignore[arg-type]


def test_each_decision_uses_the_regime_of_the_bar_it_is_decided_on(clean_env: dict[str, str]) -> None:
    candles = hourly()
    risk = prod(clean_env)
    result = run_backtest(
        MovingAverageCross(10, 30), candles, initial_cash=Decimal(100_000), fill_model=FEES, risk=risk
    )
    codes = classify_regimes(candles["close"].to_numpy(), RegimeSettings())
    rows = {t: i for i, t in enumerate(pd.to_datetime(candles["time"], utc=True))}
    for decision in sizings(result):
        row = rows[decision["time"]]  # decided after bar row - 1, at bar row's open
        expected = regime_of(int(codes[row - 1]))
        assert decision["regime"] == (None if expected is None else expected.value)


def test_fast_and_step_agree_on_sizing(clean_env: dict[str, str]) -> None:
    candles = hourly()
    fast, step = (
        run_backtest(
            MovingAverageCross(10, 30),
            candles,
            initial_cash=Decimal(100_000),
            fill_model=FEES,
            risk=prod(clean_env),
            mode=mode,
        )
        for mode in ("fast", "step")
    )
    assert fast.fills == step.fills
    assert fast.trip_returns == step.trip_returns
    pd.testing.assert_frame_equal(fast.edge_frame(), step.edge_frame())


def test_a_replayed_chunk_forgets_the_trips_it_undid(
    clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """When a guard moves the trading state inside a chunk the chunk is processed again: the trips of the
    first pass must not stay in the record (the record equals one built from the result's trips)."""
    from gpttrader.backtest import runner

    monkeypatch.setattr(runner, "CHUNK", 4096)
    risk = prod(clean_env)
    result = run_backtest(
        MovingAverageCross(5, 20), hourly(), initial_cash=Decimal(100_000), fill_model=FEES, risk=risk
    )
    assert result.risk_state is not TradingState.ACTIVE  # the state did move
    edges = result.edge_frame()
    assert edges["trades"].tolist() == list(range(1, len(result.trip_returns) + 1))
