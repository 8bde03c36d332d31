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
from gpttrader.reports.figures import (
    equity_figure,
    metrics_table,
    monthly_returns_figure,
    price_figure,
    trade_pnl_figure,
)
from gpttrader.risk import LiveRiskManager, MemoryJournal
from gpttrader.strategy import build_strategy


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
    strategy: str,
    params: Mapping[str, Any],
    candles: Mapping[str, pd.DataFrame],
    *,
    fee: float = 0.006,
    cash: float = 1_000_000,
    risk_profile: str = "",
) -> BacktestResult:
    """The strategy on the candles; with `risk_profile`, that profile's risk manager checks every order."""
    fees = FeeSchedule(maker=Decimal(str(fee)), taker=Decimal(str(fee)))
    risk = None
    if risk_profile:
        config = load_config(risk_profile, overrides={"symbols": list(candles)})
        risk = LiveRiskManager.from_config(config, MemoryJournal())
    return run_backtest(
        build_strategy(strategy, dict(params)),
        dict(candles),
        initial_cash=Decimal(str(cash)),
        fill_model=FillModel(fees=fees),
        risk=risk,
    )


def summary(result: BacktestResult) -> pd.DataFrame:
    """The metrics, rounded so that a notebook's printed table is stable across platforms."""
    shown = {name: round(value, 6) for name, value in result.metrics.items()}
    shown["final equity"] = round(result.final_equity, 2)
    return pd.DataFrame({"value": shown})


def sweep(
    strategy: str, grid: Mapping[str, Sequence[Any]], candles: Mapping[str, pd.DataFrame], *, fee: float = 0.006
) -> pd.DataFrame:
    fees = FeeSchedule(maker=Decimal(str(fee)), taker=Decimal(str(fee)))
    return parameter_sweep(strategy, grid, candles, fill_model=FillModel(fees=fees), processes=2)


def figures(result: BacktestResult, candles: Mapping[str, pd.DataFrame]) -> list[go.Figure]:
    """The report's figures (the HTML report has the same ones, see `gpttrader.reports.write_html`)."""
    return [
        metrics_table(result),
        equity_figure(result),
        *(price_figure(frame, result, pid) for pid, frame in candles.items()),
        monthly_returns_figure(result),
        trade_pnl_figure(result),
    ]


def show(result: BacktestResult, candles: Mapping[str, pd.DataFrame]) -> None:
    """Display the figures as plotly's own output, which JupyterLab draws; the standalone report
    (`write_report`) has the same figures for reading outside Jupyter."""
    for figure in figures(result, candles):
        figure.show(renderer="plotly_mimetype")


def write_report(result: BacktestResult, candles: Mapping[str, pd.DataFrame], title: str) -> Path:
    """The standalone HTML report (plotly.js embedded once: it opens offline) under data/reports/."""
    from gpttrader.reports import write_html

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = load_config(None).data_dir / "reports"
    return write_html(result, dict(candles), folder / f"research_{stamp}.html", title=title)
