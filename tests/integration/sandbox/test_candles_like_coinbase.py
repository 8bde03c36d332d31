"""Candles as Coinbase serves them, through the official SDK: the `limit` parameter (the number of buckets,
at most 350) is honoured, and history before the replayed sample is not empty, so backfills of years see data."""

import itertools
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
from coinbase.rest import RESTClient

from gpttrader.brokers.coinbase.transport import trust_certificate
from gpttrader.sandbox import RunningSandbox
from tests.integration.sandbox.conftest import SandboxFactory, sdk_client

DAY = 86400


def public_client(sandbox: RunningSandbox) -> RESTClient:
    public = RESTClient(base_url=sandbox.base_url, timeout=10)
    assert sandbox.cert_path is not None
    trust_certificate(public.session, sandbox.base_url, sandbox.cert_path)
    return public


def rows(sandbox: RunningSandbox, product_id: str, start: int, end: int, granularity: str, **extra: Any) -> list[Any]:
    """Both endpoints, which must agree: the authenticated one and the public one."""
    window = {"start": str(start), "end": str(end), "granularity": granularity, **extra}
    private = sdk_client(sandbox).get_candles(product_id, **window)
    public = public_client(sandbox).get_public_candles(product_id, **window)
    assert public.to_dict() == private.to_dict()
    return [c.to_dict() if hasattr(c, "to_dict") else c for c in private.candles]


def started(sandbox: RunningSandbox, width: int) -> int:
    """The last bucket boundary before the sandbox started: its path stands still from there (speed 0)."""
    return int(sandbox.exchange.clock.started_at) // width * width


def well_formed(candles: list[Any]) -> None:
    starts = [int(c["start"]) for c in candles]
    assert starts == sorted(starts, reverse=True)
    for c in candles:
        o, h, low, close = (Decimal(c[k]) for k in ("open", "high", "low", "close"))
        assert 0 < low <= min(o, close) <= max(o, close) <= h
        assert Decimal(c["volume"]) > 0
    for later, earlier in itertools.pairwise(candles):
        assert earlier["close"] == later["open"]  # one continuous price path


def test_limit_answers_the_newest_buckets_of_the_window(sandbox: RunningSandbox) -> None:
    end = started(sandbox, 900)
    whole = rows(sandbox, "BTC-USD", end - 3600 * 5, end, "FIFTEEN_MINUTE")
    assert len(whole) == 20
    assert rows(sandbox, "BTC-USD", end - 3600 * 5, end, "FIFTEEN_MINUTE", limit=5) == whole[:5]
    assert rows(sandbox, "BTC-USD", end - 3600 * 5, end, "FIFTEEN_MINUTE", limit=350) == whole


def test_limit_and_window_bounds(sandbox: RunningSandbox) -> None:
    client = sdk_client(sandbox)
    end = started(sandbox, 60)
    assert len(rows(sandbox, "BTC-USD", end - 60 * 350, end, "ONE_MINUTE")) == 350  # 350 is allowed
    with pytest.raises(requests.HTTPError, match="400"):
        client.get_candles("BTC-USD", start=str(end - 600), end=str(end), granularity="ONE_MINUTE", limit=351)
    with pytest.raises(requests.HTTPError, match="400"):
        client.get_candles("BTC-USD", start=str(end - 600), end=str(end), granularity="ONE_MINUTE", limit=0)
    # A limit does not widen what one request may span: a window of more than 350 buckets is refused.
    with pytest.raises(requests.HTTPError, match="less than or equal to 350"):
        client.get_candles("BTC-USD", start=str(end - 60 * 400), end=str(end), granularity="ONE_MINUTE", limit=10)


def test_years_before_the_sample_have_candles(sandbox: RunningSandbox) -> None:
    start = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
    first = rows(sandbox, "BTC-USD", start, start + 350 * DAY, "ONE_DAY")
    assert len(first) == 350
    well_formed(first)
    assert int(first[-1]["start"]) == start
    again = rows(sandbox, "BTC-USD", start, start + 350 * DAY, "ONE_DAY")
    assert again == first  # the same answer every time for the same window
    closes = [Decimal(c["close"]) for c in first]
    assert max(closes) / min(closes) > Decimal("1.05")  # a market that moves, not a flat line
    hours = rows(sandbox, "ETH-USD", start + 40 * DAY, start + 40 * DAY + 300 * 3600, "ONE_HOUR")
    assert len(hours) == 300
    well_formed(hours)
    # A day's candle is its hours' candles: one path at every granularity.
    day = start + 50 * DAY
    daily = rows(sandbox, "ETH-USD", day, day + DAY, "ONE_DAY")
    hourly = rows(sandbox, "ETH-USD", day, day + DAY, "ONE_HOUR")
    assert daily[0]["open"] == hourly[-1]["open"]
    assert daily[0]["close"] == hourly[0]["close"]
    assert Decimal(daily[0]["high"]) == max(Decimal(c["high"]) for c in hourly)
    assert Decimal(daily[0]["low"]) == min(Decimal(c["low"]) for c in hourly)


def test_the_history_joins_the_sample_without_a_gap(sandbox: RunningSandbox) -> None:
    clock = sandbox.exchange.clock
    sample_start = int(clock.started_at) - clock.history_minutes * 60
    minutes = rows(sandbox, "SOL-USD", sample_start - 120 * 60, sample_start + 120 * 60, "ONE_MINUTE")
    assert len(minutes) == 240
    well_formed(minutes)
    assert minutes[119]["open"] == f"{sandbox.exchange.paths['SOL-USD'].price(0):.2f}"  # the sample's first open


def test_old_history_is_the_same_in_every_sandbox(start_sandbox: SandboxFactory) -> None:
    """A client that cached 2024 yesterday finds the same candles today, as at Coinbase."""
    start = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp())
    answers = []
    for virtual_start in (time.time(), (datetime.now(UTC) - timedelta(days=3)).timestamp()):
        sandbox = start_sandbox(virtual_start=virtual_start)
        candles = rows(sandbox, "BTC-USD", start, start + 300 * 3600, "ONE_HOUR")
        answers.append([{k: c[k] for k in ("start", "open", "high", "low", "close")} for c in candles])
    # Prices, not volumes: the volume level follows the replayed sample's, which is drawn from its start.
    assert answers[0] == answers[1]
    assert len(answers[0]) == 300
