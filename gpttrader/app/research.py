"""The research notebook's steps, here where they are tested: candles from the samples, the cache, a file or
Coinbase (fetched into the cache), a backtest with or without a profile's risk manager, a sweep, a summary
table and the report's figures."""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from gpttrader.backtest import BacktestResult, parameter_sweep, run_backtest
from gpttrader.brokers.simulated import FeeSchedule, FillModel
from gpttrader.config import load_config
from gpttrader.domain import Granularity
from gpttrader.domain.symbols import normalize_symbols
from gpttrader.marketdata import CandleCache, fetch_candles, load_candles
from gpttrader.marketdata.cache import market_venue
from gpttrader.reports import tearsheet
from gpttrader.reports.figures import sweep_heatmap
from gpttrader.reports.tables import header_frame
from gpttrader.risk import LiveRiskManager, MemoryJournal
from gpttrader.runs.display import show as display
from gpttrader.strategy.registry import StrategySpec, resolve_strategy


def load(
    products: Sequence[str], granularity: str, start: str, end: str, source: str = "sample"
) -> dict[str, pd.DataFrame]:
    """Candles per product between two dates (YYYY-MM-DD, UTC). `source` "coinbase" fetches what the cache
    lacks through the profile's market data (the sandbox's when COINBASE_SANDBOX_URL is set, into the
    sandbox's cache); "cache" reads that same market data's cache."""
    first, last = (datetime.fromisoformat(day).replace(tzinfo=UTC) for day in (start, end))
    products = normalize_symbols(products)  # btc-usd, BTC/USD, BTCUSD: BTC-USD
    config = load_config(None)
    venue = market_venue(config)  # the cache read and filled is the market data's own
    if source != "coinbase":
        return {
            pid: load_candles(
                pid, granularity, source=source, start=first, end=last, data_dir=config.data_dir, venue=venue
            )
            for pid in products
        }
    from gpttrader.brokers.coinbase import create_market_data

    market = create_market_data(config)
    cache = CandleCache.of(config.data_dir, venue)
    grain = Granularity.parse(granularity)
    return {pid: fetch_candles(market, pid, grain, first, last, cache=cache).candles for pid in products}


def describe(candles: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per product: how many bars, from when to when, the last close and the bar returns' spread."""
    rows = []
    for pid, frame in candles.items():
        returns = frame["close"].pct_change().dropna()
        rows.append(
            {
                "product": pid,
                "bars": len(frame),
                "first": frame["time"].iloc[0],
                "last": frame["time"].iloc[-1],
                "last close": frame["close"].iloc[-1],
                "return std": returns.std(),
            }
        )
    return pd.DataFrame(rows).set_index("product")


def backtest(
    strategy: StrategySpec,
    params: Mapping[str, Any],
    candles: Mapping[str, pd.DataFrame],
    *,
    fee: float = 0.006,
    cash: float = 1_000_000,
    risk_profile: str = "",
) -> BacktestResult:
    """The strategy (a registered name, "module:Class", your class or object) on the candles; with
    `risk_profile`, that profile's risk manager checks every order."""
    fees = FeeSchedule(maker=Decimal(str(fee)), taker=Decimal(str(fee)))
    risk = None
    if risk_profile:
        config = load_config(risk_profile, overrides={"symbols": list(candles)})
        risk = LiveRiskManager.from_config(config, MemoryJournal())
    return run_backtest(
        resolve_strategy(strategy, dict(params)),
        dict(candles),
        initial_cash=Decimal(str(cash)),
        fill_model=FillModel(fees=fees),
        risk=risk,
    )


def header(result: BacktestResult, candles: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The run: period, products, timeframe, strategy and parameters, fees, slippage, starting cash."""
    return header_frame(result, candles)


def metrics(result: BacktestResult, candles: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Every metric, formatted, against buy and hold (return, excess return, alpha, beta)."""
    return tearsheet.metrics(result, candles)


def drawdowns(result: BacktestResult) -> pd.DataFrame:
    """The five worst drawdowns: peak, trough, recovery, depth, days."""
    return tearsheet.drawdowns(result)


def summary(result: BacktestResult) -> pd.DataFrame:
    """The metrics, rounded so that a notebook's printed table is stable across platforms."""
    shown = {name: round(value, 6) for name, value in result.metrics.items()}
    shown["final equity"] = round(result.final_equity, 2)
    return pd.DataFrame({"value": shown})


def sweep(
    strategy: StrategySpec,
    grid: Mapping[str, Sequence[Any]],
    candles: Mapping[str, pd.DataFrame],
    *,
    fee: float = 0.006,
) -> pd.DataFrame:
    fees = FeeSchedule(maker=Decimal(str(fee)), taker=Decimal(str(fee)))
    return parameter_sweep(strategy, grid, candles, fill_model=FillModel(fees=fees), processes=2)


def figures(result: BacktestResult, candles: Mapping[str, pd.DataFrame]) -> list[go.Figure]:
    """The tearsheet's figures (`gpttrader.reports.tearsheet`), tables included, in reading order."""
    return tearsheet.figures(result, candles)


def show_sweep(frame: pd.DataFrame, grid: Mapping[str, Sequence[Any]], metric: str = "sharpe") -> None:
    """Display a sweep's `metric` as a heatmap over its grid's first two parameters (the first across)."""
    if len(grid) < 2:
        raise ValueError(f"a sweep heatmap needs two parameters in the grid, got {list(grid)}")
    x, y = list(grid)[:2]
    display(sweep_heatmap(frame, x, y, metric))


def show(result: BacktestResult, candles: Mapping[str, pd.DataFrame]) -> None:
    """Display the figures, drawn by JupyterLab and kept by the runner's HTML export; the standalone report
    (`write_report`) has the same figures for reading outside Jupyter."""
    for figure in figures(result, candles):
        display(figure)


def write_report(result: BacktestResult, candles: Mapping[str, pd.DataFrame], title: str) -> Path:
    """The standalone HTML report (plotly.js embedded once: it opens offline) under data/reports/."""
    from gpttrader.reports import write_html

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = load_config(None).data_dir / "reports"
    return write_html(result, dict(candles), folder / f"research_{stamp}.html", title=title)
