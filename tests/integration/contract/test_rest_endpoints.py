"""The contract table: every REST endpoint the Coinbase adapter calls, called on the sandbox through the
official SDK's method as the adapter calls it (`gpttrader/brokers/coinbase/broker.py`, `market_data.py`).

Each answer must come back as the SDK's typed response class, carry no field that neither the SDK's classes
declare nor Coinbase's own answers carry (`sdk_fields`, `shapes.COINBASE_ONLY`), and carry every field of
Coinbase's answer for that endpoint with its type (`shapes`, from the reference payloads). Where no recorded
Coinbase answer exists, the shape is the fields the adapter reads, with the types Coinbase's API reference
gives them.

Not repeated here: the CFM balance summary and positions field by field and the INTX answers against the SDK's
declared fields (tests/integration/sandbox/test_futures_shapes.py), walking orders, fills, accounts and
products page by page to the end (test_quote_orders_and_paging.py), error statuses and bodies
(test_error_answers.py, test_token_rules.py) and which reasons orders are refused with (test_orders.py).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from coinbase.rest.types.base_response import BaseResponse

from tests.integration.contract import shapes
from tests.integration.contract.conftest import FUTURE, Venue
from tests.integration.contract.sdk_fields import capture, undeclared

LIMIT = {"limit_limit_gtc": {"base_size": "0.001", "limit_price": "999990.00", "post_only": False}}
CREATED: shapes.Shape = {
    "success": "bool",
    "success_response": dict.fromkeys(("order_id", "product_id", "side", "client_order_id"), "str"),
    "order_configuration": "dict",
}


@dataclass(frozen=True)
class Row:
    call: Callable[[Venue], Any]
    typed: str  # the SDK's response class for the method (sdk_endpoint_map's response_type)
    shape: shapes.Shape


def candles(venue: Venue) -> Any:
    now = int(venue.sandbox.wall.now())
    return venue.public.get_public_candles("BTC-USD", str(now - 3600), str(now), "FIVE_MINUTE", limit=12)


def edit(venue: Venue) -> Any:
    order_id = venue.client.create_order("c-edit", "BTC-USD", "SELL", LIMIT).success_response["order_id"]
    return venue.client.edit_order(order_id=order_id, size="0.002", price="999980.00")


def cancel(venue: Venue) -> Any:
    order_id = venue.client.create_order("c-cancel", "BTC-USD", "SELL", LIMIT).success_response["order_id"]
    return venue.client.cancel_orders(order_ids=[order_id])


TABLE: dict[str, Row] = {
    # market data: the adapter's catalog, quotes and books (broker.py), its public reader (market_data.py)
    "server time": Row(lambda v: v.public.get_unix_time(), "GetServerTimeResponse", {"iso": "str"}),
    "list products": Row(lambda v: v.client.get_products(), "ListProductsResponse", shapes.PRODUCTS),
    "list futures": Row(
        lambda v: v.client.get_products(product_type="FUTURE", contract_expiry_type="EXPIRING"),
        "ListProductsResponse",
        shapes.FUTURE_PRODUCTS,
    ),
    "public products": Row(lambda v: v.public.get_public_products(), "ListProductsResponse", shapes.PRODUCTS),
    "get product": Row(lambda v: v.client.get_product("BTC-USD"), "GetProductResponse", shapes.PRODUCT),
    "get future": Row(lambda v: v.client.get_product(FUTURE), "GetProductResponse", shapes.PERPETUAL_STYLE_PRODUCT),
    "public product": Row(lambda v: v.public.get_public_product("ETH-USD"), "GetProductResponse", shapes.PRODUCT),
    "best bid/ask": Row(
        lambda v: v.client.get_best_bid_ask(product_ids=["BTC-USD"]), "GetBestBidAskResponse", shapes.BEST_BID_ASK
    ),
    "product book": Row(
        lambda v: v.client.get_product_book(product_id="BTC-USD", limit=5),
        "GetProductBookResponse",
        shapes.PRODUCT_BOOK,
    ),
    "public product book": Row(
        lambda v: v.public.get_public_product_book("BTC-USD", limit=1), "GetProductBookResponse", shapes.PRODUCT_BOOK
    ),
    "public candles": Row(candles, "GetProductCandlesResponse", shapes.CANDLES),
    # the account
    "list accounts": Row(lambda v: v.client.get_accounts(limit=250), "ListAccountsResponse", shapes.ACCOUNTS),
    "transaction summary": Row(
        lambda v: v.client.get_transaction_summary(product_type="SPOT"),
        "GetTransactionSummaryResponse",
        {"fee_tier": {"taker_fee_rate": "str", "maker_fee_rate": "str"}},
    ),
    "key permissions": Row(
        lambda v: v.client.get_api_key_permissions(),
        "GetAPIKeyPermissionsResponse",
        {**dict.fromkeys(("can_view", "can_trade", "can_transfer"), "bool"), "portfolio_type": "str"},
    ),
    # orders
    "preview order": Row(
        lambda v: v.client.preview_order("BTC-USD", "BUY", {"market_market_ioc": {"quote_size": "50"}}),
        "PreviewOrderResponse",
        {**dict.fromkeys(("quote_size", "base_size", "commission_total", "slippage"), "str"), "errs": "list"},
    ),
    "create order": Row(
        lambda v: v.client.create_order("c-create", "BTC-USD", "SELL", LIMIT), "CreateOrderResponse", CREATED
    ),
    "refused order": Row(
        lambda v: v.client.create_order("c-refused", "BTC-USD", "BUY", {"market_market_ioc": {"base_size": "500"}}),
        "CreateOrderResponse",
        {
            "success": "bool",
            "failure_reason": "str",
            "order_id": "str",
            "error_response": dict.fromkeys(
                ("error", "message", "error_details", "preview_failure_reason", "new_order_failure_reason"), "str"
            ),
        },
    ),
    "edit order": Row(edit, "EditOrderResponse", {"success": "bool"}),
    "cancel orders": Row(
        cancel, "CancelOrdersResponse", {"results": [{"success": "bool", "failure_reason": "str", "order_id": "str"}]}
    ),
    "get order": Row(
        lambda v: v.client.get_order(v.resting_order_id),
        "GetOrderResponse",
        {"order": {**shapes.ORDER, "order_configuration": shapes.LIMIT_GTC}},
    ),
    "list orders": Row(lambda v: v.client.list_orders(limit=250), "ListOrdersResponse", shapes.ORDERS),
    "list fills": Row(lambda v: v.client.get_fills(limit=250), "ListFillsResponse", shapes.FILLS),
    # derivatives: CFM futures (shapes in test_futures_shapes) and INTX perpetuals
    "futures positions": Row(
        lambda v: v.client.list_futures_positions(),
        "ListFuturesPositionsResponse",
        {"positions": [{"product_id": "str"}]},
    ),
    "futures balance summary": Row(
        lambda v: v.client.get_futures_balance_summary(),
        "GetFuturesBalanceSummaryResponse",
        {"balance_summary": {"cfm_usd_balance": shapes.MONEY}},
    ),
    "list sweeps": Row(
        lambda v: v.client.list_futures_sweeps(),
        "ListFuturesSweepsResponse",
        {"sweeps": [{"requested_amount": shapes.MONEY, "status": "str"}]},
    ),
    "intraday margin setting": Row(
        lambda v: v.client.get_intraday_margin_setting(), "GetIntradayMarginSettingResponse", {"setting": "str"}
    ),
    "set intraday margin setting": Row(
        lambda v: v.client.set_intraday_margin_setting("INTRADAY_MARGIN_SETTING_STANDARD"),
        "SetIntradayMarginSettingResponse",
        {},
    ),
    "intx portfolios": Row(
        lambda v: v.client.get_portfolios(portfolio_type="INTX"),
        "ListPortfoliosResponse",
        {"portfolios": [{"uuid": "str", "type": "str"}]},
    ),
    "intx portfolio summary": Row(
        lambda v: v.client.get_perps_portfolio_summary(v.intx_portfolio),
        "GetPerpetualsPortfolioSummaryResponse",
        {"portfolios": [{"collateral": "str"}]},
    ),
    "intx positions": Row(
        lambda v: v.client.list_perps_positions(v.intx_portfolio),
        "ListPerpetualsPositionsResponse",
        {"positions": [{"symbol": "str", "net_size": "str", "entry_vwap": shapes.MONEY, "mark_price": shapes.MONEY}]},
    ),
    # last: these change what the rows above read
    "close position": Row(
        lambda v: v.client.close_position("c-close", FUTURE, size="1"), "ClosePositionResponse", CREATED
    ),
    "cancel sweep": Row(
        lambda v: v.client.cancel_pending_futures_sweep(), "CancelPendingFuturesSweepResponse", {"success": "bool"}
    ),
    "schedule sweep": Row(
        lambda v: v.client.schedule_futures_sweep("5"), "ScheduleFuturesSweepResponse", {"success": "bool"}
    ),
}


@pytest.mark.parametrize("endpoint", list(TABLE))
def test_the_answer_is_coinbases_as_the_sdk_reads_it(venue: Venue, endpoint: str) -> None:
    row = TABLE[endpoint]
    with capture() as left_over:
        answer = row.call(venue)
    assert isinstance(answer, BaseResponse)
    assert type(answer).__name__ == row.typed
    unknown = sorted(set(left_over + undeclared(answer)) - shapes.COINBASE_ONLY)
    assert unknown == [], "fields neither the SDK's classes declare nor Coinbase's answers carry"
    assert shapes.differences(answer.to_dict(), row.shape, endpoint) == []
