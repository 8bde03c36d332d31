"""Parameter sweeps: every combination of a grid, backtested in parallel processes.

Each worker receives the candles and the strategy once (at start-up), not once per combination; on Linux
the workers are forked, so a class defined in a notebook needs no pickling. A combination the
strategy refuses (fast >= slow, say) is reported in the `error` column rather than stopping the sweep.
"""

import itertools
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from decimal import Decimal
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from gpttrader.backtest.runner import run_backtest
from gpttrader.brokers.simulated import FillModel
from gpttrader.risk import LiveRiskManager
from gpttrader.strategy.registry import StrategySpec, resolve_strategy, strategy_label

_candles: dict[str, pd.DataFrame] = {}
_settings: dict[str, Any] = {}


def _initialize(candles: dict[str, pd.DataFrame], settings: dict[str, Any]) -> None:
    _candles.update(candles)
    _settings.update(settings)


def _run_one(params: dict[str, Any]) -> dict[str, Any]:
    settings = dict(_settings)
    strategy = settings.pop("strategy")
    try:
        result = run_backtest(resolve_strategy(strategy, params), _candles, **settings)
    except ValueError as exc:
        return {**params, "error": str(exc)}
    state = None if result.risk_state is None else result.risk_state.value
    return {**params, **result.metrics, "final_equity": result.final_equity, "risk_state": state, "error": None}


def parameter_sweep(
    strategy: StrategySpec,
    grid: Mapping[str, Sequence[Any]],
    candles: Mapping[str, pd.DataFrame],
    *,
    processes: int | None = None,
    progress: bool = True,
    initial_cash: Decimal = Decimal(1_000_000),
    fill_model: FillModel | None = None,
    risk: LiveRiskManager | None = None,
) -> pd.DataFrame:
    """One row per combination: its parameters, then the metrics (or the error), best Sharpe first.
    `strategy`: a registered name, "module:Class", or a class (or function) the grid's values are passed to. With
    `risk`, each run checks its orders and runs the guards (a replica each: the runs stay independent)."""
    if not grid:
        raise ValueError("the grid is empty: give at least one parameter with its values")
    names = list(grid)
    combinations = [dict(zip(names, values, strict=True)) for values in itertools.product(*grid.values())]
    resolve_strategy(strategy, combinations[0] if combinations else {})  # fail fast on names and types
    settings = {
        "strategy": strategy,
        "initial_cash": initial_cash,
        "fill_model": fill_model or FillModel(),
        "risk": risk,
    }
    workers = max(1, min(processes or os.cpu_count() or 1, len(combinations)))
    rows = []
    with ProcessPoolExecutor(max_workers=workers, initializer=_initialize, initargs=(dict(candles), settings)) as pool:
        futures = [pool.submit(_run_one, params) for params in combinations]
        label = f"sweep {strategy_label(strategy)}"
        for future in tqdm(as_completed(futures), total=len(futures), desc=label, disable=not progress):
            rows.append(future.result())
    frame = pd.DataFrame(rows)
    if "sharpe" in frame:
        frame = frame.sort_values("sharpe", ascending=False, na_position="last")
    return frame.reset_index(drop=True)
