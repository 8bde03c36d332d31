from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from gpttrader.backtest import parameter_sweep
from gpttrader.config import load_config
from gpttrader.marketdata import load_candles
from gpttrader.risk import LiveRiskManager, MemoryJournal, TradingState
from gpttrader.strategy import MovingAverageCross, build_strategy

ROOT = Path(__file__).resolve().parents[3]


def test_registry_builds_and_checks() -> None:
    assert build_strategy("ma_cross", {"fast": "5", "slow": 20}) == MovingAverageCross(5, 20)
    assert build_strategy("macd", {"allow_short": "true"}).allow_short is True  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="unknown strategy 'turtle'; strategies: ma_cross, rsi, macd, ensemble"):
        build_strategy("turtle")
    with pytest.raises(ValueError, match="strategy ma_cross takes no parameter 'speed'; parameters: fast, slow"):
        build_strategy("ma_cross", {"speed": 1})
    with pytest.raises(ValueError, match="strategy ma_cross: fast must be int, got 'ten'"):
        build_strategy("ma_cross", {"fast": "ten", "slow": 30})
    assert build_strategy("ma_cross", {"fast": 5}) == MovingAverageCross(5, 30)  # slow's default
    with pytest.raises(ValueError, match="fast must be a whole number, got 2.5"):
        build_strategy("ma_cross", {"fast": 2.5, "slow": 30})


@pytest.fixture(scope="module")
def candles() -> dict[str, pd.DataFrame]:
    return {
        "ETH-USD": load_candles(
            "ETH-USD",
            "ONE_HOUR",
            start=datetime(2025, 1, 1, tzinfo=UTC),
            end=datetime(2025, 7, 1, tzinfo=UTC),
            data_dir=ROOT / "data",
        )
    }


@pytest.mark.slow
def test_sweep_runs_the_grid_in_processes(candles: dict[str, pd.DataFrame]) -> None:
    table = parameter_sweep("ma_cross", {"fast": [5, 10, 40], "slow": [20, 40]}, candles, processes=2, progress=False)
    assert len(table) == 6
    refused = table[table["error"].notna()]
    assert set(zip(refused["fast"], refused["slow"], strict=True)) == {(40, 20), (40, 40)}
    ok = table[table["error"].isna()]
    assert list(ok["sharpe"]) == sorted(ok["sharpe"], reverse=True)
    assert (ok["trades"] > 0).all()
    with pytest.raises(ValueError, match="takes no parameter 'speed'"):
        parameter_sweep("ma_cross", {"speed": [1]}, candles, progress=False)


@pytest.mark.slow
def test_a_sweep_with_guards_reports_each_runs_final_state(
    clean_env: dict[str, str], candles: dict[str, pd.DataFrame]
) -> None:
    config = load_config(
        "paper",
        overrides={"symbols": ["ETH-USD"], "guards": {"max_drawdown": {"limit": "0.005"}}},
    )
    risk = LiveRiskManager.from_config(config, MemoryJournal())
    grid = {"fast": [5, 10], "slow": [20, 40]}
    guarded = parameter_sweep("ma_cross", grid, candles, processes=2, progress=False, risk=risk)
    free = parameter_sweep("ma_cross", grid, candles, processes=2, progress=False)
    assert set(guarded["risk_state"]) == {"reduce_only"}  # a 0.5% drawdown limit stops every combination
    assert free["risk_state"].isna().all()
    merged = guarded.merge(free, on=["fast", "slow"], suffixes=("_guarded", "_free"))
    assert (merged["trades_guarded"] < merged["trades_free"]).all()
    assert risk.state is TradingState.ACTIVE
