"""Download candles through a broker into the cache, fetching only what the cache does not cover.

Windows hold at most 350 candles (Coinbase's limit per request); the broker rate-limits and retries
each request. The cache is saved every few windows, so an interrupted download resumes where it
stopped. Stretches with no candles (no trades) are reported, not refetched.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pandas as pd
from tqdm.auto import tqdm

from gpttrader.domain import Granularity
from gpttrader.marketdata.cache import CandleCache
from gpttrader.marketdata.frames import between, gaps, merge, to_frame
from gpttrader.marketdata.source import CandleSource

MAX_WINDOW = 350
SAVE_EVERY = 20
log = logging.getLogger(__name__)


@dataclass
class FetchResult:
    candles: pd.DataFrame
    requests: int = 0
    fetched: int = 0
    gaps: list[tuple[datetime, datetime]] = field(default_factory=list)


def missing_ranges(
    cached: pd.DataFrame, start: datetime, end: datetime, step: timedelta, *, again: int = 0
) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) outside the cache's covered span (before its first or after its last candle).
    The part after it takes in the cache's last `again` candles too (`cached` then within [start, end)), even
    when nothing else is missing: asked again, they tell whether the cache is still the source's."""
    if cached.empty:
        return [(start, end)]
    times = cached["time"]
    first = times.iloc[0].to_pydatetime()
    last = times.iloc[-min(again, len(times))].to_pydatetime() if again else times.iloc[-1].to_pydatetime() + step
    ranges = []
    if start < first:
        ranges.append((start, min(first, end)))
    if end > last:
        ranges.append((max(last, start), end))
    return ranges


def windows(ranges: list[tuple[datetime, datetime]], step: timedelta) -> list[tuple[datetime, datetime]]:
    out = []
    for start, end in ranges:
        cursor = start
        while cursor < end:
            stop = min(cursor + step * MAX_WINDOW, end)
            out.append((cursor, stop))
            cursor = stop
    return out


def fetch_candles(
    source: CandleSource,
    product_id: str,
    granularity: Granularity | str | int,
    start: datetime,
    end: datetime,
    *,
    cache: CandleCache,
    progress: bool = True,
) -> FetchResult:
    grain = Granularity.parse(granularity)
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware (UTC)")
    if start >= end:
        raise ValueError(f"start {start.isoformat()} must be before end {end.isoformat()}")
    step = timedelta(seconds=grain.seconds)
    # Align to the grid and never ask for the future: the last candle still forming is not final.
    start = _floor(start, step)
    end = min(_floor(end, step), _floor(datetime.now(UTC), step))
    cached = cache.read(product_id, grain)
    todo = windows(missing_ranges(cached, start, end, step), step)
    result = FetchResult(candles=cached)
    frame = cached
    for index, (window_start, window_end) in enumerate(
        tqdm(todo, desc=f"{product_id} {grain.value}", unit="window", disable=not progress or not todo)
    ):
        # Only closed buckets are kept: Coinbase's window may end on the bucket still forming, and serve it.
        candles = [c for c in source.candles(product_id, grain, window_start, window_end) if c.time < end]
        result.requests += 1
        result.fetched += len(candles)
        frame = merge(frame, to_frame(candles))
        if (index + 1) % SAVE_EVERY == 0:
            cache.write(product_id, grain, frame)
    if todo:
        cache.write(product_id, grain, frame)
    result.candles = between(frame, start, end)
    result.gaps = gaps(result.candles, grain)
    if result.gaps:
        log.warning(
            "%s %s: %d gaps, the first from %s to %s",
            product_id,
            grain.value,
            len(result.gaps),
            result.gaps[0][0].isoformat(),
            result.gaps[0][1].isoformat(),
        )
    return result


def _floor(moment: datetime, step: timedelta) -> datetime:
    seconds = int(step.total_seconds())
    stamp = int(moment.astimezone(UTC).timestamp())
    return datetime.fromtimestamp(stamp - stamp % seconds, UTC)
