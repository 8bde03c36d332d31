"""Research-to-live parity beyond the one-minute moving-average cross: the backtest, a paper session against
the sandbox and a canary session through the Coinbase adapter against the sandbox decide the same orders on
the same bars, for an hourly strategy, a strategy filtered by a higher timeframe, and an order strategy with
a limit entry and a bracket."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gpttrader.config import load_config
from gpttrader.domain import Granularity, OrderType, Side
from gpttrader.strategy import Bar, MovingAverageCross, OrderIntent, TargetPosition
from tests.integration.engine.parity import START, backtest, config_for, history, sandbox_for, session
from tests.integration.sandbox.conftest import SandboxFactory


@dataclass(frozen=True)
class QuarterTrend:
    """A three-over-eight cross on one-minute bars, long only while the last closed quarter hour rose."""

    name: str = "quarter_trend"
    higher_timeframes: tuple[Granularity, ...] = (Granularity.FIFTEEN_MINUTE,)
    cross: MovingAverageCross = field(default_factory=lambda: MovingAverageCross(3, 8))

    @property
    def warmup(self) -> int:
        return 40  # two quarters behind the first decision, whatever minute the history starts at

    def new_state(self) -> dict[str, Any]:
        return {"cross": self.cross.new_state(), "up": False}

    def on_higher_bar(self, bar: Bar, granularity: Granularity, state: dict[str, Any]) -> None:
        state["up"] = bar.close > bar.open

    def on_bar(self, bar: Bar, state: dict[str, Any]) -> TargetPosition:
        crossed = self.cross.on_bar(bar, state["cross"])
        target = crossed.target if state["up"] else 0.0
        return TargetPosition(bar.product_id, target, 1.0, "cross, in a rising quarter")


@dataclass(frozen=True)
class DipBuyer:
    """On every fifth minute's bar, a limit buy 0.05% under the close for three bars, with a bracket 0.2%
    above and 0.2% below."""

    name: str = "dip_buyer"
    warmup: int = 1

    def new_state(self) -> None:
        return None

    def on_bar(self, bar: Bar, state: None) -> tuple[OrderIntent, ...]:
        if bar.time.minute % 5:
            return ()
        price = round(bar.close * 0.9995, 2)
        return (
            OrderIntent(
                bar.product_id,
                Side.BUY,
                OrderType.LIMIT,
                fraction=1.0,
                limit_price=price,
                take_profit=round(price * 1.002, 2),
                stop_loss=round(price * 0.998, 2),
                expire_bars=3,
                reason="dip",
            ),
        )


@dataclass(frozen=True)
class Case:
    strategy: Any
    cycles: int
    start: datetime = START
    overrides: dict[str, Any] = field(default_factory=dict)
    sandbox: dict[str, Any] = field(default_factory=dict)  # the sandbox's settings
    env: dict[str, str] = field(default_factory=dict)


PERP = "BTC-PERP-INTX"
CANARY_GUARDS = load_config("canary", env={}).guards.model_dump(mode="json")  # the same rules in every venue


@dataclass(frozen=True)
class Churn:
    """In for two minutes, out for two: each round trip pays two fees on a two-minute move, so it loses."""

    name: str = "churn"
    warmup: int = 1

    def new_state(self) -> None:
        return None

    def on_bar(self, bar: Bar, state: None) -> TargetPosition:
        return TargetPosition(bar.product_id, 1.0 if bar.time.minute % 4 < 2 else 0.0, 1.0, "churn")

    def targets(self, candles: pd.DataFrame) -> np.ndarray:
        minutes = pd.to_datetime(candles["time"], utc=True).dt.minute.to_numpy()
        return np.where(minutes % 4 < 2, 1.0, 0.0)


CASES = {
    "hourly": Case(
        MovingAverageCross(3, 8),
        600,
        START - timedelta(hours=10),
        {"strategy": {"name": "ma_cross", "params": {"fast": 3, "slow": 8}, "granularity": "ONE_HOUR"}},
    ),
    "higher_timeframe": Case(QuarterTrend(), 90),
    "limit_entry_with_bracket": Case(DipBuyer(), 60),
    # The canary's guards on, with its order-rate limits: the one that bites is its loss streak (two losing
    # round trips in a row), which counts trips as every venue closes them; its dollar loss limits are
    # raised, since how soon they bite depends on each venue's spread and fee tier.
    "guards_that_bite": Case(
        Churn(),
        60,
        overrides={
            "guards": {
                **CANARY_GUARDS,
                "hourly_loss": {"enabled": True, "limit": 1000, "unit": "usd"},
                "daily_loss": {"enabled": True, "limit": 1000, "unit": "usd"},
                "max_drawdown": {"enabled": True, "limit": "0.5"},
            }
        },
    ),
    # Kelly sizing from the strategy's own record, seeded at start from the history before it (live as in
    # the backtest) and fed each round trip; the position cap keeps every size the cap's, so a record that
    # turns the edge non-positive (size 0: no order) shows in the decisions.
    "kelly": Case(
        MovingAverageCross(3, 8),
        90,
        overrides={"sizing": {"method": "kelly", "kelly_min_trades": 14, "edge_seed_bars": 60}},
    ),
    # A perpetual paying funding every hour it is held (the sandbox's INTX; the paper venue; the backtest).
    "perpetual_with_funding": Case(
        MovingAverageCross(3, 8),
        150,
        overrides={
            "symbols": [PERP],
            "risk": {"max_position_size": {PERP: "0.005"}, "limits_file": None},
            "strategy": {"name": "ma_cross", "params": {"fast": 3, "slow": 8}},
        },
        sandbox={"derivatives_enabled": True},
        env={"COINBASE_ENABLE_DERIVATIVES": "1"},
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_backtest_paper_and_canary_decide_the_same(start_sandbox: SandboxFactory, tmp_path: Path, name: str) -> None:
    case = CASES[name]
    overrides = {**case.overrides, "trading_window": None}  # sessions of hours: the canary's hour does not bound them
    sandboxes = [sandbox_for(start_sandbox, case.start, **case.sandbox) for _ in range(2)]
    paper_config = config_for("paper", sandboxes[0], tmp_path / "paper", case.env, **overrides)
    canary_config = config_for("canary", sandboxes[1], tmp_path / "canary", case.env, **overrides)
    paper = session(paper_config, sandboxes[0], case.strategy, case.cycles)
    canary = session(canary_config, sandboxes[1], case.strategy, case.cycles)
    day = timedelta(days=1)
    product, fee, frame = history(canary_config, sandboxes[1], case.start - day, canary.last_bar + day)
    frame = frame[frame["time"] <= canary.last_bar]
    tested, result = backtest(canary_config, product, frame, case.strategy, paper.first_bar, fee)
    assert paper.decisions, "the sessions should decide something"
    assert paper.first_bar == canary.first_bar
    assert paper.decisions == canary.decisions
    assert paper.decisions == [d for d in tested if d[0] >= paper.first_bar]
    assert len(paper.fills) == len(canary.fills) == len(result.fills)
