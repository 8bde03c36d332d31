"""A product's closed candles at one granularity, read page by page: Coinbase answers at most 350 candles a
request, and a warm-up or a seed may need thousands. A bucket is closed once its end is at or before the
exchange's time, since the exchange serves the bucket still forming as its last candle."""

from datetime import datetime

from gpttrader.brokers.protocol import Broker
from gpttrader.config.models import SizingConfig
from gpttrader.domain import Candle, Granularity

PAGE_BARS = 300  # candles per request, under Coinbase's 350


def warm_up_bars(warmup: int, volatility_window: int) -> int:
    """The bars a strategy is warmed up on at start: its own warm-up and the volatility window's, and two to
    spare (the last closed one is decided on, not fed)."""
    return warmup + volatility_window + 2


def seed_bars(sizing: SizingConfig, regime_lookback: int, *, kelly: bool) -> int:
    """The bars the sizing seed reads at start: the regimes' history, or Kelly's seed backtest if longer."""
    return max(regime_lookback, sizing.edge_seed_bars if kelly else 0)


def closed_candles(
    broker: Broker, product_id: str, granularity: Granularity, start: datetime, exchange_now: datetime
) -> list[Candle]:
    """The closed buckets starting in [start, the bucket forming at `exchange_now`), oldest first."""
    step = granularity.width
    end = granularity.bucket(exchange_now)
    by_time: dict[datetime, Candle] = {}
    page = start
    while page < end:
        stop = min(page + step * PAGE_BARS, end)
        for candle in broker.candles(product_id, granularity, page, stop):
            if start <= candle.time and candle.time + step <= exchange_now:
                by_time[candle.time] = candle  # a page's edge may repeat the next page's first bucket
        page = stop
    return [by_time[t] for t in sorted(by_time)]
