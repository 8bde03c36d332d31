"""The shapes of Coinbase's own answers: field names and JSON types, no values.

Taken field by field from the reference payloads the project was built against (`payloads/http_*.json` and
`payloads/ws_*.json` of the Coinbase reference data: real Advanced Trade bodies recorded by a public
client, each noted below). A shape is a dict of field -> type name (`str`, `bool`, `int`, `dict`, `list`,
alternatives joined by `|`, `None` where Coinbase answered null), a nested shape, or `[shape]`: a non-empty
list whose every entry has that shape. Only field names and types are kept: no recorded value is copied.
A helper module, not a test module."""

from typing import Any

from tests.integration.sandbox.test_futures_shapes import PERPETUAL_STYLE_PRODUCT

__all__ = ["PERPETUAL_STYLE_PRODUCT"]

Shape = dict[str, Any]
MONEY: Shape = {"value": "str", "currency": "str"}

# http_accounts.json
ACCOUNT: Shape = {
    **dict.fromkeys(("uuid", "name", "currency", "created_at", "updated_at", "type", "retail_portfolio_id"), "str"),
    **dict.fromkeys(("default", "active", "ready"), "bool"),
    "available_balance": MONEY,
    "hold": MONEY,
    "deleted_at": "str|None",
}
ACCOUNTS: Shape = {"accounts": [ACCOUNT], "has_next": "bool", "cursor": "str", "size": "int"}

# http_candles.json
CANDLES: Shape = {"candles": [dict.fromkeys(("start", "low", "high", "open", "close", "volume"), "str")]}

# http_fills.json
FILL: Shape = {
    **dict.fromkeys(
        (
            "entry_id",
            "trade_id",
            "order_id",
            "trade_time",
            "trade_type",
            "price",
            "size",
            "commission",
            "product_id",
            "sequence_timestamp",
            "liquidity_indicator",
            "user_id",
            "side",
            "retail_portfolio_id",
        ),
        "str",
    ),
    "size_in_quote": "bool",
}
FILLS: Shape = {"fills": [FILL], "cursor": "str"}

# http_order.json and http_orders_list.json (`last_fill_time` is null in the list, a time in the order)
ORDER: Shape = {
    **dict.fromkeys(
        (
            "order_id",
            "product_id",
            "user_id",
            "side",
            "client_order_id",
            "status",
            "time_in_force",
            "created_time",
            "completion_percentage",
            "filled_size",
            "average_filled_price",
            "fee",
            "number_of_fills",
            "filled_value",
            "total_fees",
            "total_value_after_fees",
            "trigger_status",
            "order_type",
            "reject_reason",
            "product_type",
            "reject_message",
            "cancel_message",
            "order_placement_source",
            "outstanding_hold_amount",
            "leverage",
            "margin_type",
            "retail_portfolio_id",
            "originating_order_id",
            "attached_order_id",
        ),
        "str",
    ),
    **dict.fromkeys(("pending_cancel", "size_in_quote", "size_inclusive_of_fees", "settled", "is_liquidation"), "bool"),
    "order_configuration": "dict",
    "last_fill_time": "str|None",
}
LIMIT_GTC: Shape = {"limit_limit_gtc": {"base_size": "str", "limit_price": "str", "post_only": "bool"}}
ORDERS: Shape = {"orders": [ORDER], "sequence": "str", "has_next": "bool", "cursor": "str"}

# http_product.json (a spot product); a future's is the perpetual-style product of test_futures_shapes,
# itself taken from http_products_future.json
PRODUCT: Shape = {
    name: kind
    for name, kind in PERPETUAL_STYLE_PRODUCT.items()
    if name not in ("future_product_details", "fcm_trading_session_details", "new_at")
} | {"fcm_trading_session_details": "dict|None", "new_at": "str|None"}
PRODUCTS: Shape = {"products": [PRODUCT], "num_products": "int", "pagination": "dict|None"}
# http_products_future.json lists a perpetual-style future and a monthly one, which has no funding: null
_FUTURE_DETAILS = PERPETUAL_STYLE_PRODUCT["future_product_details"] | dict.fromkeys(
    ("funding_interval", "funding_time"), "str|None"
)
FUTURE_PRODUCT: Shape = PERPETUAL_STYLE_PRODUCT | {"future_product_details": _FUTURE_DETAILS}
FUTURE_PRODUCTS: Shape = {"products": [FUTURE_PRODUCT], "num_products": "int", "pagination": "dict|None"}

# http_product_book.json; best bid/ask answers a list of the same price books
PRICEBOOK: Shape = {
    "product_id": "str",
    "bids": [{"price": "str", "size": "str"}],
    "asks": [{"price": "str", "size": "str"}],
    "time": "str",
}
PRODUCT_BOOK: Shape = {
    "pricebook": PRICEBOOK,
    **dict.fromkeys(("last", "mid_market", "spread_bps", "spread_absolute"), "str"),
}
BEST_BID_ASK: Shape = {"pricebooks": [PRICEBOOK]}

# ws_*.json: every message's envelope, then each channel's events
ENVELOPE: Shape = {"channel": "str", "client_id": "str", "timestamp": "str", "sequence_num": "int"}
WS_HEARTBEATS: Shape = {**ENVELOPE, "events": [{"current_time": "str", "heartbeat_counter": "int"}]}
WS_SUBSCRIPTIONS: Shape = {**ENVELOPE, "events": [{"subscriptions": "dict"}]}
WS_TICKER: Shape = {
    **ENVELOPE,
    "events": [
        {
            "type": "str",
            "tickers": [
                dict.fromkeys(
                    (
                        "type",
                        "product_id",
                        "price",
                        "volume_24_h",
                        "low_24_h",
                        "high_24_h",
                        "low_52_w",
                        "high_52_w",
                        "price_percent_chg_24_h",
                        "best_bid",
                        "best_bid_quantity",
                        "best_ask",
                        "best_ask_quantity",
                    ),
                    "str",
                )
            ],
        }
    ],
}
WS_MARKET_TRADES: Shape = {
    **ENVELOPE,
    "events": [
        {"type": "str", "trades": [dict.fromkeys(("trade_id", "product_id", "price", "size", "side", "time"), "str")]}
    ],
}
WS_USER_ORDER: Shape = dict.fromkeys(
    (
        "order_id",
        "client_order_id",
        "cumulative_quantity",
        "leaves_quantity",
        "avg_price",
        "total_fees",
        "status",
        "product_id",
        "creation_time",
        "order_side",
        "order_type",
        "cancel_reason",
        "reject_reason",
        "total_value_after_fees",
        "contract_expiry_type",
        "product_type",
        "risk_managed_by",
        "time_in_force",
        "trigger_status",
    ),
    "str",
)
WS_USER: Shape = {**ENVELOPE, "events": [{"type": "str", "orders": [WS_USER_ORDER]}]}

# Fields Coinbase's answers above carry that the SDK's typed classes do not declare: (class, field).
COINBASE_ONLY = {
    *(
        (cls, name)
        for cls in ("Product", "GetProductResponse")
        for name in (
            "new_at",
            "market_cap",
            "base_cbrn",
            "quote_cbrn",
            "product_cbrn",
            "icon_color",
            "icon_url",
            "display_name_overwrite",
            "is_alpha_testing",
            "about_description",
            "best_bid_price",
            "best_ask_price",
        )
    ),
    ("ListProductsResponse", "pagination"),
    *(
        ("FCMPosition", name)  # http_cfm_position.json
        for name in (
            "total_fees",
            "contract_size",
            "entry_vwap",
            "liquidation_price",
            "leverage",
            "im_contribution",
            "mm_contribution",
            "position_notional",
        )
    ),
    ("Event", "subscriptions"),  # ws_subscriptions.json
    # No recorded answer; in Coinbase's API reference (List Portfolios, Get Transaction Summary). The SDK
    # declares `advanced_trade_only_volumes`, a name Coinbase does not send.
    ("Portfolio", "deleted"),
    ("GetTransactionSummaryResponse", "advanced_trade_only_volume"),
}


def differences(answer: Any, shape: Any, where: str) -> list[str]:
    """Where `answer` lacks a field of `shape` or has another type (the empty list when it has the shape)."""
    if isinstance(shape, str):
        kind = "None" if answer is None else type(answer).__name__
        return [] if kind in shape.split("|") else [f"{where}: {kind} {answer!r:.60}, Coinbase's is {shape}"]
    if isinstance(shape, list):
        if not isinstance(answer, list) or not answer:
            return [f"{where}: {answer!r:.60} is not a non-empty list"]
        return [d for n, item in enumerate(answer) for d in differences(item, shape[0], f"{where}[{n}]")]
    if not isinstance(answer, dict):
        return [f"{where}: {answer!r:.60} is not an object"]
    return [
        d
        for name, inner in shape.items()
        for d in (
            differences(answer[name], inner, f"{where}.{name}") if name in answer else [f"{where}.{name}: missing"]
        )
    ]
