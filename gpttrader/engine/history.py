"""A product's closed candles at one granularity, read page by page: Coinbase answers at most 350 candles a
request, and a warm-up or a seed may need thousands. A bucket is closed once its end is at or before the
exchange's time, since the exchange serves the bucket still forming as its last candle.

At start they are read through the venue's parquet cache (the one research and the backtest read): what it
holds is used, only the rest is asked of the venue and then kept. The last two bars it holds are asked
again: the newest was kept as soon as it closed and the venue may have revised it since, and if the one
before differs too, the cache is not this venue's (a sandbox or dev market started again, on another path
under the same times), so the whole window is read from the venue and replaces it. A cache file that
cannot be read is read around and replaced the same way; either is logged, neither stops a start."""

import logging
from datetime import datetime
from decimal import Decimal

import pandas as pd

from gpttrader.brokers.protocol import Broker
from gpttrader.config.models import SizingConfig
from gpttrader.domain import Candle, Granularity
from gpttrader.marketdata.cache import CandleCache
from gpttrader.marketdata.fetch import missing_ranges, windows
from gpttrader.marketdata.frames import COLUMNS, between, empty_frame, merge, to_frame

log = logging.getLogger(__name__)
REREAD = 2  # the cached bars asked again at each read: the newest may have been revised, the one before not


def warm_up_bars(warmup: int, volatility_window: int) -> int:
    """The bars a strategy is warmed up on at start: its own warm-up and the volatility window's, and two to
    spare (the last closed one is decided on, not fed)."""
    return warmup + volatility_window + 2


def seed_bars(sizing: SizingConfig, regime_lookback: int, *, kelly: bool) -> int:
    """The bars the sizing seed reads at start: the regimes' history, or Kelly's seed backtest if longer."""
    return max(regime_lookback, sizing.edge_seed_bars if kelly else 0)


def closed_candles(
    broker: Broker,
    product_id: str,
    granularity: Granularity,
    start: datetime,
    exchange_now: datetime,
    cache: CandleCache | None = None,
) -> list[Candle]:
    """The closed buckets starting in [start, the bucket forming at `exchange_now`), oldest first; with a
    cache, those it holds and the rest from the venue, which are then kept."""
    step, end = granularity.width, granularity.bucket(exchange_now)
    if cache is None:  # each cycle's few bars, straight from the venue
        return [c for c in _fetch(broker, product_id, granularity, [(start, end)]) if start <= c.time < end]
    kept = _kept(cache, product_id, granularity)
    held = between(kept, start, end)
    fetched = _fetch(broker, product_id, granularity, missing_ranges(held, start, end, step, again=REREAD))
    by_time = {c.time: c for c in _candles(product_id, held)}
    if not _confirmed(held, fetched):
        log.warning(
            "the cached %s %s candles at %s are not the venue's; reading %s to %s from the venue instead",
            product_id,
            granularity.value,
            cache.path(product_id, granularity),
            start.isoformat(),
            end.isoformat(),
        )
        kept, by_time = empty_frame(), {}
        fetched = _fetch(broker, product_id, granularity, [(start, end)])
    # Never the bucket still forming (Coinbase's window may end on it); kept again only what changed.
    fresh = [c for c in fetched if start <= c.time < end and by_time.get(c.time) != c]
    by_time.update((c.time, c) for c in fresh)
    if fresh:
        _keep(cache, product_id, granularity, merge(kept, to_frame(fresh)))
    return [by_time[t] for t in sorted(by_time)]


def _fetch(
    broker: Broker, product_id: str, granularity: Granularity, ranges: list[tuple[datetime, datetime]]
) -> list[Candle]:
    """The venue's candles in `ranges`, a page a request; a page's edge may repeat the next one's first."""
    by_time = {
        c.time: c
        for page_start, page_end in windows(ranges, granularity.width)
        for c in broker.candles(product_id, granularity, page_start, page_end)
    }
    return [by_time[t] for t in sorted(by_time)]


def _confirmed(held: pd.DataFrame, fetched: list[Candle]) -> bool:
    """Whether the venue's answer for the oldest bar asked again is the cached one (compared as the cache
    stores it: floats); an empty cache, or no answer (no trades there now), contradicts nothing."""
    if held.empty:
        return True
    cached = held.iloc[-min(REREAD, len(held))]
    answer = to_frame([c for c in fetched if c.time == cached["time"]])
    return answer.empty or bool((answer.iloc[0] == cached).all())


def _kept(cache: CandleCache, product_id: str, granularity: Granularity) -> pd.DataFrame:
    """The cached candles, or none when the file cannot be read (it is replaced by the next write)."""
    try:
        return cache.read(product_id, granularity)
    except (ValueError, OSError) as exc:  # not candles (CandleFileError), not parquet (ArrowInvalid), unreadable
        path = cache.path(product_id, granularity)
        log.warning("the candle cache %s cannot be read (%s); reading from the venue", path, exc)
        return empty_frame()


def _keep(cache: CandleCache, product_id: str, granularity: Granularity, frame: pd.DataFrame) -> None:
    try:
        cache.write(product_id, granularity, frame)
    except OSError as exc:  # a full or read-only disk costs the next start a download, not this start
        log.warning("the candle cache %s cannot be written: %s", cache.path(product_id, granularity), exc)


def _candles(product_id: str, frame: pd.DataFrame) -> list[Candle]:
    """Cached rows as candles; repr gives back the decimal the venue sent (prices and sizes have far fewer
    digits than a float keeps)."""
    rows = zip(*(frame[c].tolist() for c in COLUMNS), strict=True)
    return [Candle(product_id, t.to_pydatetime(), *(Decimal(repr(v)) for v in values)) for t, *values in rows]
