"""The sandbox as Coinbase, not only as the SDK: a market buy sized in quote spends its quote fees included,
listings page by opaque cursors (products by offset) and honour the reference's filters, and accounts carry
the reference's types."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import requests
from coinbase.rest import RESTClient

from tests.integration.sandbox.test_orders import TAKER, balances, best

Lister = Callable[..., Any]


def test_a_market_buy_sized_in_quote_spends_the_quote_fees_included(client: RESTClient) -> None:
    """Coinbase takes the fee out of the quote: filled value plus fees is the quote, and the fills say their
    size in quote (size_in_quote)."""
    before = balances(client)
    _, ask = best(client)
    result = client.market_order_buy(client_order_id="q-1", product_id="BTC-USD", quote_size="100")
    assert result.success, result.to_dict()
    order = client.get_order(result.success_response["order_id"]).order
    assert order.status == "FILLED"
    assert order.to_dict()["order_configuration"] == {"market_market_ioc": {"quote_size": "100"}}
    assert order.size_in_quote is True
    assert order.size_inclusive_of_fees is True
    value, fees, size = Decimal(order.filled_value), Decimal(order.total_fees), Decimal(order.filled_size)
    assert value + fees == Decimal(100)
    assert Decimal(order.total_value_after_fees) == Decimal(100)
    assert abs(fees - value * TAKER) < Decimal("1e-10")
    assert Decimal("100") / ask / (1 + TAKER) * Decimal("0.999") < size <= Decimal("100") / ask
    assert Decimal(order.completion_percentage) == Decimal(100)
    fills = client.get_fills(order_ids=[order.order_id]).fills
    assert all(f["size_in_quote"] is True for f in fills)
    assert sum(Decimal(f["size"]) for f in fills) == value  # in quote
    assert sum(Decimal(f["size"]) / Decimal(f["price"]) for f in fills) == size
    assert sum(Decimal(f["commission"]) for f in fills) == fees
    after = balances(client)
    assert after["USD"][0] == before["USD"][0] - Decimal(100)
    assert after["BTC"][0] == before["BTC"][0] + size


def test_a_quote_sized_buy_previews_what_it_would_buy(client: RESTClient) -> None:
    preview = client.preview_market_order_buy(product_id="BTC-USD", quote_size="100")
    assert preview.errs == []
    assert Decimal(preview.order_total) == Decimal(100)
    assert abs(Decimal(preview.commission_total) - Decimal(preview.quote_size) * TAKER) < Decimal("1e-10")
    _, ask = best(client)
    assert Decimal("100") / ask / (1 + TAKER) * Decimal("0.999") < Decimal(preview.base_size) <= Decimal(100) / ask


def test_a_quote_sized_buy_beyond_the_wallet_is_refused(client: RESTClient) -> None:
    result = client.market_order_buy(client_order_id="q-2", product_id="BTC-USD", quote_size="100000.01")
    assert not result.success
    assert result.error_response["error"] == "INSUFFICIENT_FUND"


def test_a_quote_sized_sell_is_refused_as_coinbase_refuses_it(client: RESTClient) -> None:
    configuration = {"market_market_ioc": {"quote_size": "100"}}
    result = client.create_order(
        client_order_id="q-3", product_id="BTC-USD", side="SELL", order_configuration=configuration
    )
    assert not result.success
    assert result.error_response["error"] == "UNSUPPORTED_ORDER_CONFIGURATION"
    assert "Market sells must be parameterized in base currency" in result.error_response["message"]
    assert result.error_response["preview_failure_reason"] == "PREVIEW_INVALID_ORDER_CONFIG"
    preview = client.preview_order(product_id="BTC-USD", side="SELL", order_configuration=configuration)
    assert preview.errs == ["PREVIEW_INVALID_ORDER_CONFIG"]
    assert client.list_orders().orders == []


def trade(client: RESTClient, count: int, first: int = 0) -> list[str]:
    """`count` market buys over three products (a few fills each), numbered from `first`; their order ids,
    oldest first."""
    ids = []
    for n in range(first, first + count):
        product = ("BTC-USD", "ETH-USD", "SOL-USD")[n % 3]
        size = {"BTC-USD": "0.001", "ETH-USD": "0.01", "SOL-USD": "0.1"}[product]
        result = client.market_order_buy(client_order_id=f"p-{n}", product_id=product, base_size=size)
        assert result.success
        ids.append(result.success_response["order_id"])
    return ids


def walk(list_page: Lister, key: str, id_field: str, limit: int, **filters: Any) -> list[str]:
    """Every entry of a cursor-paged listing, page by page; each page but the last full, each cursor new and
    not a plain number (opaque), and `has_next` (where the listing has it) true exactly while more remain."""
    ids: list[str] = []
    cursors: list[str] = []
    cursor = None
    while True:
        page = list_page(limit=limit, cursor=cursor, **filters).to_dict()
        rows = page[key]
        ids.extend(r[id_field] for r in rows)
        more = page.get("has_next", bool(page["cursor"]))
        assert more == bool(page["cursor"]), page
        if not more:
            return ids
        assert len(rows) == limit
        assert page["cursor"] not in cursors
        assert not page["cursor"].isdigit()
        cursors.append(page["cursor"])
        cursor = page["cursor"]
        assert len(cursors) < 100, "the walk never ended"


@pytest.mark.parametrize("limit", [1, 2])
def test_orders_fills_and_accounts_page_by_cursor_to_the_end(client: RESTClient, limit: int) -> None:
    placed = trade(client, 5)
    orders = walk(client.list_orders, "orders", "order_id", limit)
    assert orders == list(reversed(placed))  # newest first, each once
    whole_fills = [f["trade_id"] for f in client.get_fills().fills]
    assert len(whole_fills) >= 5
    assert walk(client.get_fills, "fills", "trade_id", limit) == whole_fills
    whole_accounts = [a.uuid for a in client.get_accounts().accounts]
    assert len(whole_accounts) >= 4
    assert walk(client.get_accounts, "accounts", "uuid", limit) == whole_accounts
    assert walk(client.list_orders, "orders", "order_id", limit, product_ids=["BTC-USD"]) == list(
        reversed(placed[0::3])
    )


def test_a_cursor_survives_orders_made_between_pages(client: RESTClient) -> None:
    placed = trade(client, 3)
    first = client.list_orders(limit=2)
    trade(client, 1, first=3)  # a newer order lands at the head, before the cursor: neither repeated nor skipped
    rest = client.list_orders(limit=2, cursor=first.cursor)
    assert [o.order_id for o in first.orders + rest.orders] == list(reversed(placed))
    assert rest.has_next is False
    assert rest.cursor == ""


@pytest.mark.parametrize("cursor", ["garbage!", "1", "b3JkZXJzOng"])
def test_a_cursor_no_page_gave_is_a_bad_request(client: RESTClient, cursor: str) -> None:
    trade(client, 2)
    with pytest.raises(requests.HTTPError) as refused:
        client.list_orders(limit=1, cursor=cursor)
    assert refused.value.response.status_code == 400
    assert refused.value.response.json()["error"] == "INVALID_ARGUMENT"


def test_a_cursor_of_one_listing_is_refused_by_another(client: RESTClient) -> None:
    trade(client, 3)
    fills_cursor = client.get_fills(limit=1).cursor
    assert fills_cursor
    with pytest.raises(requests.HTTPError) as refused:
        client.list_orders(limit=1, cursor=fills_cursor)
    assert refused.value.response.status_code == 400


@pytest.mark.parametrize("limit", [1, 2])
def test_products_page_by_offset_as_coinbase_does(client: RESTClient, limit: int) -> None:
    whole = [p.product_id for p in client.get_products().products]
    assert len(whole) > 4
    walked: list[str] = []
    offset = 0
    while True:
        page = client.get_products(limit=limit, offset=offset)
        walked.extend(p.product_id for p in page.products)
        assert page.num_products == len(page.products)
        if len(page.products) < limit:
            break
        offset += limit
        assert offset < 100, "the walk never ended"
    assert walked == whole
    assert client.get_products(product_ids=whole[:2], limit=1, offset=1).products[0].product_id == whole[1]


def test_orders_honour_the_reference_filters(client: RESTClient) -> None:
    placed = trade(client, 4)  # BTC, ETH, SOL, BTC
    sell = client.market_order_sell(client_order_id="s-1", product_id="BTC-USD", base_size="0.001")
    assert sell.success
    created = {o.order_id: o.created_time for o in client.list_orders().orders}

    def ids(**filters: Any) -> list[str]:
        return [o.order_id for o in client.list_orders(**filters).orders]

    sell_id = sell.success_response["order_id"]
    assert ids(product_id="ETH-USD") == [placed[1]]  # the singular the reference still lists
    assert ids(product_ids=["ETH-USD"], product_id="SOL-USD") == [placed[2], placed[1]]
    assert ids(order_side="SELL") == [sell_id]
    assert ids(start_date=created[placed[2]]) == [sell_id, placed[3], placed[2]]  # inclusive
    assert ids(end_date=created[placed[2]]) == [placed[1], placed[0]]  # exclusive
    assert ids(start_date=created[placed[1]], end_date=created[placed[3]], product_ids=["SOL-USD"]) == [placed[2]]
    assert ids(order_status=["OPEN"]) == []
    assert ids(order_types="MARKET", product_type="SPOT", asset_filters=["BTC"]) == [sell_id, placed[3], placed[0]]
    assert ids(product_type="FUTURE") == []
    with pytest.raises(requests.HTTPError) as refused:
        client.list_orders(start_date="yesterday")
    assert refused.value.response.status_code == 400


def test_fills_honour_the_reference_filters(client: RESTClient) -> None:
    placed = trade(client, 3)
    fills = client.get_fills().fills  # newest first
    by_order = {order_id: [f["trade_id"] for f in fills if f["order_id"] == order_id] for order_id in placed}

    def ids(**filters: Any) -> list[str]:
        return [f["trade_id"] for f in client.get_fills(**filters).fills]

    assert ids(order_id=placed[1]) == by_order[placed[1]]  # the singular the reference still lists
    assert ids(product_id="SOL-USD") == by_order[placed[2]]
    assert ids(product_ids=["BTC-USD"], order_id=placed[0]) == by_order[placed[0]]
    times = sorted({f["sequence_timestamp"] for f in fills})
    assert len(times) == 3  # one moment per order here
    assert ids(start_sequence_timestamp=times[1]) == by_order[placed[2]] + by_order[placed[1]]
    assert ids(end_sequence_timestamp=times[1]) == by_order[placed[0]]
    with pytest.raises(requests.HTTPError) as refused:
        client.get_fills(start_sequence_timestamp="2026-13-01")
    assert refused.value.response.status_code == 400


def test_accounts_carry_the_reference_types(client: RESTClient) -> None:
    types = {a.currency: a.type for a in client.get_accounts().accounts}
    assert types["USD"] == "ACCOUNT_TYPE_FIAT"
    assert types["BTC"] == "ACCOUNT_TYPE_CRYPTO"
    assert set(types.values()) <= {"ACCOUNT_TYPE_FIAT", "ACCOUNT_TYPE_CRYPTO"}
