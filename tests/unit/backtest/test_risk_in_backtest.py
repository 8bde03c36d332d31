"""The risk manager inside the backtest: a guard that trips on the sample data changes what may be filled
from the next bar on, shows in the result and in the report, and the chunked evaluation gives exactly what
a bar-by-bar evaluation gives."""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gpttrader.backtest import BacktestResult, run_backtest, runner
from gpttrader.brokers.simulated import FeeSchedule, FillModel
from gpttrader.config import load_config
from gpttrader.config.guards import Guards
from gpttrader.domain import Side
from gpttrader.domain.events import EventType
from gpttrader.marketdata import load_candles
from gpttrader.reports import write_html
from gpttrader.risk import LiveRiskManager, MemoryJournal, TradingState
from gpttrader.strategy import MovingAverageCross

ROOT = Path(__file__).resolve().parents[3]
FEES = FillModel(fees=FeeSchedule(maker=Decimal("0.006"), taker=Decimal("0.006")))
ALL_OFF = {name: {"enabled": False} for name in Guards.model_fields}


def manager(clean_env: dict[str, str], symbols: list[str], guards: dict[str, Any]) -> LiveRiskManager:
    """All-in sizing without per-symbol caps (so that the research case is not cut), and only `guards` on."""
    config = load_config(
        "paper",
        overrides={
            "symbols": symbols,
            "risk": {"limits_file": None, "max_position_fraction": 1, "max_exposure_fraction": 1},
            "sizing": {"method": "fixed_fraction", "fraction": 1},
            "guards": {**ALL_OFF, **guards},
        },
    )
    return LiveRiskManager.from_config(config, MemoryJournal())


def sample(product: str, days: int, granularity: str = "ONE_MINUTE") -> pd.DataFrame:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    return load_candles(product, granularity, start=start, end=start + pd.Timedelta(days=days), data_dir=ROOT / "data")


def positions_around(result: BacktestResult) -> list[tuple[datetime, Decimal, Decimal]]:
    held: dict[str, Decimal] = {}
    seen = []
    for fill in result.fills:
        before = held.get(fill.product_id, Decimal(0))
        after = before + (fill.size if fill.side is Side.BUY else -fill.size)
        held[fill.product_id] = after
        seen.append((fill.time, before, after))
    return seen


def test_the_drawdown_guard_trips_and_only_reducing_orders_fill_after(
    clean_env: dict[str, str], tmp_path: Path
) -> None:
    candles = sample("BTC-USD", 20, "FIVE_MINUTE")
    risk = manager(clean_env, ["BTC-USD"], {"max_drawdown": {"limit": "0.05"}})
    result = run_backtest(MovingAverageCross(10, 30), candles, fill_model=FEES, risk=risk)
    assert risk.state is TradingState.ACTIVE  # the caller's manager is untouched: the backtest ran a replica

    breaches = result.risk_frame((EventType.RISK_GUARD_BREACHED,))
    assert set(breaches["guard"]) == {"max_drawdown"}  # the only guard on (it may trip again after a recovery)
    tripped = breaches["time"].iloc[0]
    # Independently of the engine: the first bar whose close leaves equity 5% under its running peak.
    equity = result.equity
    drawdown = 1 - equity / np.maximum.accumulate(np.r_[float(result.initial_cash), equity.to_numpy()])[1:]
    assert tripped == equity.index[np.argmax(drawdown >= 0.05)]
    assert result.risk_state is TradingState.REDUCE_ONLY
    [change] = result.risk_frame((EventType.RISK_STATE_CHANGED,)).to_dict("records")
    assert (change["from"], change["to"], change["time"]) == ("active", "reduce_only", tripped)

    after = [(t, before, now) for t, before, now in positions_around(result) if t > tripped]
    assert all(abs(now) < abs(before) for _, before, now in after)
    rejected = result.risk_frame((EventType.RISK_ORDER_REJECTED,))
    assert (rejected["reason"] == "reduce_only").any()  # the strategy kept trying; the checks said no
    assert (rejected["time"] > tripped).all()

    report = write_html(result, {"BTC-USD": candles}, tmp_path / "report.html")
    page = report.read_text()
    assert '"name":"guard breached"' in page
    assert '"name":"trading state"' in page


def test_a_loss_limit_in_equity_share_trips_where_the_hours_loss_reaches_that_share(clean_env: dict[str, str]) -> None:
    candles = sample("BTC-USD", 20, "FIVE_MINUTE")
    risk = manager(clean_env, ["BTC-USD"], {"hourly_loss": {"limit": "0.01"}})
    result = run_backtest(MovingAverageCross(10, 30), candles, fill_model=FEES, risk=risk)
    breaches = result.risk_frame((EventType.RISK_GUARD_BREACHED,))
    assert set(breaches["metric"]) == {"hourly_loss_share"}
    # Independently of the engine: each hour opens at the last equity of the hour before (the starting cash
    # for the first); the first bar 1% below its hour's opening equity trips it.
    equity = result.equity
    hours = equity.index.floor("h")
    opening = pd.Series(np.r_[float(result.initial_cash), equity.to_numpy()[:-1]], index=equity.index)
    opening = opening.groupby(hours).transform("first")
    share = 1 - equity / opening
    assert breaches["time"].iloc[0] == share.index[np.argmax(share.to_numpy() >= 0.01)]
    assert result.risk_state is TradingState.REDUCE_ONLY


def run_portfolio(clean_env: dict[str, str], mode: str = "fast") -> BacktestResult:
    frames = {pid: sample(pid, 3) for pid in ("BTC-USD", "ETH-USD", "SOL-USD")}
    guards = {
        "max_drawdown": {"limit": "0.03"},
        "consecutive_losses": {"limit": 6},
        "hourly_loss": {"limit": 5000, "unit": "usd"},  # a limit in dollars, beside the shares
        "volatility": {"limit": "1.8"},
        "volatility_kill_switch": {"limit": "2.4"},
        "concentration": {"limit": "0.9"},
    }
    risk = manager(clean_env, list(frames), guards)
    return run_backtest(MovingAverageCross(5, 20), frames, fill_model=FEES, risk=risk, mode=mode)  # type: ignore[arg-type]


def fingerprint(result: BacktestResult) -> tuple[Any, ...]:
    return (
        [(o.client_order_id, o.side, o.size) for o in result.orders],
        [(f.trade_id, f.price, f.size, f.fee) for f in result.fills],
        result.equity.to_numpy().tolist(),
        [(e.time, e.type, sorted(e.payload.items())) for e in result.risk_events],
        result.risk_state,
        dict(result.risk_counters),
    )


def test_chunked_guards_equal_bar_by_bar_guards(clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """With one bar per chunk the guards are evaluated after every bar and a state change takes effect on
    the next: the plain bar-by-bar loop. Any chunk size must give the same run."""
    default = run_portfolio(clean_env)
    kinds = set(default.guard_events()["type"])
    assert {"risk.guard_warning", "risk.guard_breached", "risk.state_changed"} <= kinds
    assert default.risk_state is TradingState.HALTED  # two state changes, so two replays
    monkeypatch.setattr(runner, "CHUNK", 1)
    assert fingerprint(run_portfolio(clean_env)) == fingerprint(default)
    monkeypatch.setattr(runner, "CHUNK", 977)
    assert fingerprint(run_portfolio(clean_env)) == fingerprint(default)


def test_step_mode_with_guards_equals_fast_mode(clean_env: dict[str, str]) -> None:
    assert fingerprint(run_portfolio(clean_env, "step")) == fingerprint(run_portfolio(clean_env))


def test_without_a_manager_nothing_is_checked(clean_env: dict[str, str]) -> None:
    candles = sample("BTC-USD", 20, "FIVE_MINUTE")
    result = run_backtest(MovingAverageCross(10, 30), candles, fill_model=FEES)
    assert result.risk_events == []
    assert result.risk_state is None
    assert result.guard_events().empty


def test_every_enabled_guard_is_fed_in_a_backtest_or_switched_off_saying_why(clean_env: dict[str, str]) -> None:
    """Spread and depth from the depth model (as paper reads them); the guards a backtest cannot feed
    (no exchange calls, bars for marks, no margin account) switched off and recorded in the result."""
    config = load_config("dev", overrides={"symbols": ["BTC-USD"], "guards": {"spread": {"limit": "1"}}})
    risk = LiveRiskManager.from_config(config, MemoryJournal())
    result = run_backtest(MovingAverageCross(5, 20), sample("BTC-USD", 1), product_id="BTC-USD", risk=risk)
    inactive = {e.payload["guard"]: e.payload["reason"] for e in result.risk_events if e.type == "risk.guard_inactive"}
    assert set(inactive) == set(runner.UNFED_IN_BACKTEST)
    breached = result.guard_events()
    # The model's spread (about 2 bps) is over a 1 bp limit: the spread guard watched and fired.
    assert "spread" in set(breached["guard"])
