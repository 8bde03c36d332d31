"""fetch_candles through the Coinbase adapter against the sandbox: windows, cache, resume, gaps, faults."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from gpttrader.brokers.coinbase import CoinbaseBroker, create_coinbase_broker
from gpttrader.domain import Granularity
from gpttrader.marketdata import CandleCache, fetch_candles
from gpttrader.sandbox import RunningSandbox
from tests.integration.coinbase.conftest import config_for
from tests.integration.sandbox.conftest import SandboxFactory, inject


def test_windows_cache_and_only_missing_ranges(broker: CoinbaseBroker, tmp_path: Path) -> None:
    cache = CandleCache(tmp_path / "cache")
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    start = end - timedelta(minutes=800)
    first = fetch_candles(broker, "BTC-USD", "ONE_MINUTE", start, end, cache=cache, progress=False)
    assert first.requests == 3  # 350 + 350 + 100
    assert len(first.candles) == 800
    assert first.candles["time"].is_monotonic_increasing
    assert first.candles["time"].is_unique
    assert first.gaps == []
    assert cache.path("BTC-USD", Granularity.ONE_MINUTE).is_file()
    again = fetch_candles(broker, "BTC-USD", Granularity.ONE_MINUTE, start, end, cache=cache, progress=False)
    assert again.requests == 0
    pd.testing.assert_frame_equal(again.candles, first.candles)
    wider = fetch_candles(broker, "BTC-USD", 60, start - timedelta(minutes=100), end, cache=cache, progress=False)
    assert wider.requests == 1
    assert len(wider.candles) == 900


def test_rate_limits_during_a_download_are_waited_out(
    sandbox: RunningSandbox, broker: CoinbaseBroker, tmp_path: Path
) -> None:
    inject(sandbox, kind="rate_limit", count=2, retry_after=0.2, path_prefix="/api/v3/brokerage/market/products")
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    result = fetch_candles(
        broker, "ETH-USD", "FIVE_MINUTE", end - timedelta(days=1), end, cache=CandleCache(tmp_path), progress=False
    )
    assert len(result.candles) == 288
    assert broker.retry.retries == 2


def test_gaps_are_reported(start_sandbox: SandboxFactory, clean_env: dict[str, str], tmp_path: Path) -> None:
    prices = [100.0 + i for i in range(400)]
    times = pd.date_range("2025-06-01", periods=400, freq="1min", tz="UTC")
    volume = [0.0 if 200 <= i < 205 else 5.0 for i in range(400)]  # five minutes without a trade
    pd.DataFrame(
        {"time": times, "open": prices, "high": prices, "low": prices, "close": prices, "volume": volume}
    ).to_parquet(tmp_path / "sol.parquet")
    sandbox = start_sandbox(candle_files={"SOL-USD": tmp_path / "sol.parquet"}, history_minutes=300)
    broker = create_coinbase_broker(config_for(sandbox, clean_env))
    now = datetime.fromtimestamp(sandbox.exchange.clock.started_at, UTC)
    result = fetch_candles(
        broker,
        "SOL-USD",
        "ONE_MINUTE",
        now - timedelta(minutes=290),
        now,
        cache=CandleCache(tmp_path / "cache"),
        progress=False,
    )
    gap_start = now - timedelta(minutes=100)
    assert result.gaps == [(gap_start, gap_start + timedelta(minutes=4))]
    assert len(result.candles) == 285


def test_bad_arguments(broker: CoinbaseBroker, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with pytest.raises(ValueError, match="must be before end"):
        fetch_candles(broker, "BTC-USD", "ONE_MINUTE", now, now - timedelta(hours=1), cache=CandleCache(tmp_path))
    with pytest.raises(ValueError, match="timezone-aware"):
        fetch_candles(
            broker, "BTC-USD", "ONE_MINUTE", datetime(2026, 1, 1), datetime(2026, 1, 2), cache=CandleCache(tmp_path)
        )
    with pytest.raises(ValueError, match="granularity 'weekly' is not one of"):
        fetch_candles(broker, "BTC-USD", "weekly", now - timedelta(hours=1), now, cache=CandleCache(tmp_path))
