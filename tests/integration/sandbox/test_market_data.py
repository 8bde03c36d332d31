"""Market data endpoints answer in Coinbase's shapes (strings for numbers) and parse in the SDK's types."""

import itertools
import time
from decimal import Decimal

import pytest
import requests
from coinbase.rest import RESTClient

from gpttrader.sandbox import RunningSandbox
from tests.integration.sandbox.conftest import SandboxFactory, admin, sdk_client

SPOT = {"BTC-USD", "ETH-USD", "SOL-USD", "XRP-USD", "LTC-USD", "ADA-USD", "DOGE-USD", "BCH-USD", "AVAX-USD", "LINK-USD"}


def test_products_spot_and_futures_without_perpetuals(client: RESTClient) -> None:
    products = client.get_products().products
    ids = {p.product_id for p in products}
    assert ids >= SPOT
    futures = [p for p in products if p.product_type == "FUTURE"]
    assert {p.product_id for p in client.get_products(product_type="FUTURE").products} == {
        p.product_id for p in futures
    }
    # Two months of BTC and ETH futures, and the nano BTC and ETH perpetual-style futures (five-year expiry).
    assert len(futures) == 6
    assert all(p.future_product_details["contract_expiry_type"] == "EXPIRING" for p in futures)
    assert {p.product_id for p in futures if p.future_product_details.get("funding_interval")} == {
        "BIP-20DEC30-CDE",
        "ETP-20DEC30-CDE",
    }
    assert not any(i.endswith("-PERP-INTX") for i in ids)
    with pytest.raises(requests.HTTPError, match="404"):
        client.get_product("BTC-PERP-INTX")


def test_perpetuals_only_with_derivatives(start_sandbox: SandboxFactory) -> None:
    client = sdk_client(start_sandbox(derivatives_enabled=True))
    perp = client.get_product("BTC-PERP-INTX")
    assert perp.product_type == "FUTURE"
    assert perp.future_product_details["contract_expiry_type"] == "PERPETUAL"
    perpetuals = client.get_products(product_type="FUTURE", contract_expiry_type="PERPETUAL").products
    assert {p.product_id for p in perpetuals} == {"BTC-PERP-INTX", "ETH-PERP-INTX"}


def test_product_fields_are_strings_on_the_grid(client: RESTClient) -> None:
    product = client.get_product("BTC-USD")
    for name in (
        "price",
        "base_increment",
        "quote_increment",
        "base_min_size",
        "base_max_size",
        "quote_min_size",
        "volume_24h",
        "price_percentage_change_24h",
    ):
        assert isinstance(product[name], str), name
    assert Decimal(product.price) % Decimal(product.quote_increment) == 0
    assert 10_000 < Decimal(product.price) < 1_000_000
    with pytest.raises(requests.HTTPError, match="404"):
        client.get_product("NOPE-USD")


def test_candles_newest_first_consistent_and_bounded(client: RESTClient) -> None:
    now = int(time.time())
    candles = client.get_candles("BTC-USD", start=str(now - 3600 * 5), end=str(now), granularity="FIFTEEN_MINUTE")
    rows = candles.candles
    # Twenty buckets start in the window; the newest, still open, has no trades (and so no candle) when the
    # path stands still (speed 0) and the test runs just after a minute boundary.
    assert 19 <= len(rows) <= 20
    starts = [int(c["start"]) for c in rows]
    assert starts == sorted(starts, reverse=True)
    assert all(s % 900 == 0 for s in starts)
    for c in rows:
        o, h, low, close = (Decimal(c[k]) for k in ("open", "high", "low", "close"))
        assert low <= min(o, close) <= max(o, close) <= h
        assert Decimal(c["volume"]) > 0
    with pytest.raises(requests.HTTPError, match="less than or equal to 350"):
        client.get_candles("BTC-USD", start=str(now - 60 * 400), end=str(now), granularity="ONE_MINUTE")
    with pytest.raises(requests.HTTPError, match="granularity must be one of"):
        client.get_candles("BTC-USD", start=str(now - 600), end=str(now), granularity="SEVEN_MINUTE")


def test_consecutive_candles_join_up(client: RESTClient) -> None:
    now = int(time.time())
    rows = client.get_candles("ETH-USD", start=str(now - 3600), end=str(now), granularity="ONE_MINUTE").candles
    ordered = list(reversed(rows))
    for earlier, later in itertools.pairwise(ordered):
        assert earlier["close"] == later["open"]


def test_public_candles_match_private_candles(sandbox: RunningSandbox, client: RESTClient) -> None:
    public = RESTClient(base_url=sandbox.base_url)
    from gpttrader.brokers.coinbase.transport import trust_certificate

    assert sandbox.cert_path is not None
    trust_certificate(public.session, sandbox.base_url, sandbox.cert_path)
    end = int(time.time()) // 60 * 60
    args = {"start": str(end - 1800), "end": str(end), "granularity": "FIVE_MINUTE"}
    assert public.get_public_candles("SOL-USD", **args).to_dict() == client.get_candles("SOL-USD", **args).to_dict()


def test_book_best_bid_ask_and_trades(client: RESTClient) -> None:
    book = client.get_product_book("BTC-USD", limit=5).pricebook
    bids = [Decimal(level["price"]) for level in book.bids]
    asks = [Decimal(level["price"]) for level in book.asks]
    assert len(bids) == len(asks) == 5
    assert bids == sorted(bids, reverse=True)
    assert asks == sorted(asks)
    assert bids[0] < asks[0]
    best = client.get_best_bid_ask(product_ids=["BTC-USD", "ETH-USD"]).pricebooks
    assert [b.product_id for b in best] == ["BTC-USD", "ETH-USD"]
    assert Decimal(best[0].bids[0]["price"]) == bids[0]
    trades = client.get_market_trades("BTC-USD", limit=7)
    assert len(trades.trades) == 7
    assert Decimal(trades.best_bid) == bids[0]


def test_prices_move_when_the_path_advances(sandbox: RunningSandbox, client: RESTClient) -> None:
    before = Decimal(client.get_product("BTC-USD").price)
    assert Decimal(client.get_product("BTC-USD").price) == before  # speed 0: the path stands still
    admin(sandbox, advance_minutes=30)
    assert Decimal(client.get_product("BTC-USD").price) != before
