"""The sandbox replays a given candles file, expires GTD orders, freezes its feed on demand, and streams
the CFM account on futures_balance_summary."""

import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from coinbase.websocket import WSClient

from gpttrader.marketdata import CandleFileError
from gpttrader.sandbox import RunningSandbox
from tests.integration.sandbox.conftest import SandboxFactory, admin, sdk_client
from tests.integration.sandbox.feeds import Collector
from tests.waiting import wait_for


def staircase(path: Path, minutes: int) -> Path:
    """Flat one-minute candles whose price is 1000 + the minute's index: easy to read back."""
    prices = 1000.0 + pd.Series(range(minutes), dtype=float)
    times = pd.date_range("2025-06-01", periods=minutes, freq="1min", tz="UTC")
    pd.DataFrame(
        {"time": times, "open": prices, "high": prices, "low": prices, "close": prices, "volume": 10.0}
    ).to_parquet(path)
    return path


def test_a_candles_file_is_replayed(start_sandbox: SandboxFactory, tmp_path: Path) -> None:
    sandbox = start_sandbox(candle_files={"SOL-USD": staircase(tmp_path / "sol.parquet", 200)}, history_minutes=100)
    client = sdk_client(sandbox)
    assert Decimal(client.get_product("SOL-USD").price) == Decimal("1100.00")  # minute 100: the history's end
    admin(sandbox, advance_minutes=25)
    assert Decimal(client.get_product("SOL-USD").price) == Decimal("1125.00")
    now = int(time.time()) // 60 * 60
    candles = client.get_candles("SOL-USD", start=str(now - 600), end=str(now), granularity="ONE_MINUTE").candles
    # Newest first: the current minute's candle holds the 25-minute jump and closes where the price is;
    # the minutes before it are history replayed at real pace, one path minute (one dollar) each.
    assert Decimal(candles[0]["close"]) == Decimal("1125.00")
    assert {Decimal(c["close"]) - Decimal(c["open"]) for c in candles[1:]} <= {Decimal(0), Decimal(1)}
    assert Decimal(client.get_product("BTC-USD").price) > 10_000  # other markets stay synthetic


def test_a_too_short_file_is_refused(start_sandbox: SandboxFactory, tmp_path: Path) -> None:
    with pytest.raises(CandleFileError, match="50 candles; the sandbox needs more than 100"):
        start_sandbox(candle_files={"SOL-USD": staircase(tmp_path / "short.parquet", 50)}, history_minutes=100)


def test_gtd_orders_expire_and_release_their_hold(sandbox: RunningSandbox) -> None:
    client = sdk_client(sandbox)
    ask = Decimal(client.get_product("BTC-USD").price) * 2
    end = (datetime.now(UTC) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    placed = client.limit_order_gtd_sell(
        client_order_id="gtd-1",
        product_id="BTC-USD",
        base_size="0.1",
        limit_price=str(ask.quantize(Decimal("0.01"))),
        end_time=end,
    )
    order_id = placed.success_response["order_id"]
    btc = next(a for a in client.get_accounts().accounts if a.currency == "BTC")
    assert Decimal(btc.hold["value"]) == Decimal("0.1")
    assert client.get_order(order_id).order.status == "OPEN"
    wait_for(lambda: client.get_order(order_id).order.status == "EXPIRED", timeout=10, what="the GTD order to expire")
    btc = next(a for a in client.get_accounts().accounts if a.currency == "BTC")
    assert Decimal(btc.hold["value"]) == 0


def test_a_frozen_feed_keeps_heartbeats_but_stops_prices(start_sandbox: SandboxFactory) -> None:
    sandbox = start_sandbox(speed=600.0)  # ten path minutes a wall second: prices move all the time
    client = sdk_client(sandbox)
    admin(sandbox, freeze=True)
    frozen = client.get_product("BTC-USD").price
    collector = Collector()
    key = json.loads(sandbox.settings.key_files[0].read_text())
    ws = WSClient(api_key=key["name"], api_secret=key["privateKey"], base_url=sandbox.ws_url, on_message=collector)
    ws.open()
    try:
        ws.subscribe(["BTC-USD"], ["ticker"])
        ws.subscribe([], ["heartbeats"])
        wait_for(lambda: len(collector.on("heartbeats")) >= 3)
        assert len(collector.on("ticker")) == 1, "a frozen feed sends its snapshot and no updates"
        assert client.get_product("BTC-USD").price == frozen
        admin(sandbox, freeze=False)
        wait_for(lambda: len(collector.on("ticker")) >= 3)
    finally:
        ws.close()
    assert client.get_product("BTC-USD").price != frozen


def test_futures_balance_summary_channel_follows_the_cfm_account(sandbox: RunningSandbox) -> None:
    client = sdk_client(sandbox)
    collector = Collector()
    key = json.loads(sandbox.settings.key_files[0].read_text())
    ws = WSClient(api_key=key["name"], api_secret=key["privateKey"], base_url=sandbox.ws_url, on_message=collector)
    ws.open()
    try:
        ws.subscribe([], ["futures_balance_summary"])
        wait_for(lambda: len(collector.on("futures_balance_summary")) >= 1)
        snapshot = collector.on("futures_balance_summary")[0]["events"][0]["fcm_balance_summary"]
        assert (snapshot["cfm_usd_balance"], snapshot["initial_margin"]) == ("10000", "0")
        future = next(p.product_id for p in client.get_products(product_type="FUTURE").products)
        client.market_order_buy(client_order_id="fb-1", product_id=future, base_size="1")
        wait_for(
            lambda: any(
                Decimal(m["events"][0]["fcm_balance_summary"]["initial_margin"]) > 0
                for m in collector.on("futures_balance_summary")
            )
        )
    finally:
        ws.close()
    rest = client.get_futures_balance_summary().balance_summary
    last = collector.on("futures_balance_summary")[-1]["events"][0]["fcm_balance_summary"]
    assert Decimal(last["initial_margin"]) == Decimal(rest["initial_margin"]["value"])
