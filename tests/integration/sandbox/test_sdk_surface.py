"""Every REST endpoint the sandbox serves, called once through the official SDK's method for it.

Each answer must parse in the SDK's typed response class and carry the fields Coinbase's own bodies
carry (the lists below are the keys of real Advanced Trade responses), with numbers as strings.
"""

import time
from decimal import Decimal
from typing import Any

from coinbase.rest import RESTClient

from gpttrader.brokers.coinbase.transport import trust_certificate
from tests.integration.sandbox.conftest import SandboxFactory, sdk_client

ACCOUNT = {
    "active",
    "available_balance",
    "created_at",
    "currency",
    "default",
    "deleted_at",
    "hold",
    "name",
    "ready",
    "retail_portfolio_id",
    "type",
    "updated_at",
    "uuid",
}
PRODUCT = {
    "about_description",
    "alias",
    "alias_to",
    "approximate_quote_24h_volume",
    "auction_mode",
    "base_cbrn",
    "base_currency_id",
    "base_display_symbol",
    "base_increment",
    "base_max_size",
    "base_min_size",
    "base_name",
    "best_ask_price",
    "best_bid_price",
    "cancel_only",
    "display_name",
    "display_name_overwrite",
    "fcm_trading_session_details",
    "icon_color",
    "icon_url",
    "is_alpha_testing",
    "is_disabled",
    "limit_only",
    "market_cap",
    "mid_market_price",
    "new",
    "new_at",
    "post_only",
    "price",
    "price_increment",
    "price_percentage_change_24h",
    "product_cbrn",
    "product_id",
    "product_type",
    "product_venue",
    "quote_cbrn",
    "quote_currency_id",
    "quote_display_symbol",
    "quote_increment",
    "quote_max_size",
    "quote_min_size",
    "quote_name",
    "status",
    "trading_disabled",
    "view_only",
    "volume_24h",
    "volume_percentage_change_24h",
    "watched",
}
ORDER = {
    "attached_order_id",
    "average_filled_price",
    "cancel_message",
    "client_order_id",
    "completion_percentage",
    "created_time",
    "fee",
    "filled_size",
    "filled_value",
    "is_liquidation",
    "last_fill_time",
    "leverage",
    "margin_type",
    "number_of_fills",
    "order_configuration",
    "order_id",
    "order_placement_source",
    "order_type",
    "originating_order_id",
    "outstanding_hold_amount",
    "pending_cancel",
    "product_id",
    "product_type",
    "reject_message",
    "reject_reason",
    "retail_portfolio_id",
    "settled",
    "side",
    "size_in_quote",
    "size_inclusive_of_fees",
    "status",
    "time_in_force",
    "total_fees",
    "total_value_after_fees",
    "trigger_status",
    "user_id",
}
FILL = {
    "commission",
    "entry_id",
    "liquidity_indicator",
    "order_id",
    "price",
    "product_id",
    "retail_portfolio_id",
    "sequence_timestamp",
    "side",
    "size",
    "size_in_quote",
    "trade_id",
    "trade_time",
    "trade_type",
    "user_id",
}
CANDLE = {"close", "high", "low", "open", "start", "volume"}
TRADE = {"ask", "bid", "exchange", "price", "product_id", "side", "size", "time", "trade_id"}
CFM_SUMMARY = {
    "available_margin",
    "cbi_usd_balance",
    "cfm_usd_balance",
    "daily_realized_pnl",
    "futures_buying_power",
    "initial_margin",
    "intraday_margin_window_measure",
    "liquidation_buffer_amount",
    "liquidation_buffer_percentage",
    "liquidation_threshold",
    "overnight_margin_window_measure",
    "total_open_orders_hold_amount",
    "total_usd_balance",
    "unrealized_pnl",
}
CFM_POSITION = {
    "avg_entry_price",
    "contract_size",
    "current_price",
    "daily_realized_pnl",
    "entry_vwap",
    "expiration_time",
    "im_contribution",
    "leverage",
    "liquidation_price",
    "mm_contribution",
    "number_of_contracts",
    "position_notional",
    "product_id",
    "side",
    "total_fees",
    "unrealized_pnl",
}
NUMERIC = {
    "price",
    "size",
    "base_increment",
    "quote_increment",
    "filled_size",
    "total_fees",
    "commission",
    "open",
    "close",
    "high",
    "low",
    "volume",
    "number_of_contracts",
    "contract_size",
}


def carries(body: Any, fields: set[str]) -> dict[str, Any]:
    data: dict[str, Any] = body if isinstance(body, dict) else body.to_dict()
    missing = fields - set(data)
    assert not missing, f"missing fields: {sorted(missing)}"
    for name in fields & NUMERIC:
        value = data[name]["value"] if isinstance(data[name], dict) else data[name]  # money objects too
        assert isinstance(value, str), f"{name} should be a string, is {type(value).__name__}"
    return data


def test_every_endpoint_through_the_sdk(start_sandbox: SandboxFactory) -> None:
    sandbox = start_sandbox(derivatives_enabled=True)
    client = sdk_client(sandbox)
    public = RESTClient(base_url=sandbox.base_url)
    assert sandbox.cert_path is not None
    trust_certificate(public.session, sandbox.base_url, sandbox.cert_path)
    now = int(time.time())
    window = {"start": str(now - 3600), "end": str(now), "granularity": "FIVE_MINUTE"}

    assert int(client.get_unix_time().epoch_seconds) > 0
    accounts = client.get_accounts().accounts
    carries(accounts[0], ACCOUNT)
    carries(client.get_account(accounts[0].uuid).account, ACCOUNT)
    for products in (client.get_products(), public.get_public_products()):
        carries(products.products[0], PRODUCT)
    carries(client.get_product("BTC-USD"), PRODUCT)
    carries(public.get_public_product("ETH-USD"), PRODUCT)
    for book in (client.get_product_book("BTC-USD", limit=3), public.get_public_product_book("BTC-USD", limit=3)):
        carries(book, {"last", "mid_market", "pricebook", "spread_absolute", "spread_bps"})
        carries(book.pricebook, {"asks", "bids", "product_id", "time"})
    carries(client.get_best_bid_ask(product_ids=["BTC-USD"]).pricebooks[0], {"asks", "bids", "product_id", "time"})
    for candles in (client.get_candles("BTC-USD", **window), public.get_public_candles("BTC-USD", **window)):
        carries(candles.candles[0], CANDLE)
    for trades in (client.get_market_trades("BTC-USD", limit=3), public.get_public_market_trades("BTC-USD", limit=3)):
        carries(trades.trades[0], TRADE)
        carries(trades, {"best_ask", "best_bid", "trades"})

    created = client.create_order(
        client_order_id="s-1",
        product_id="BTC-USD",
        side="SELL",
        order_configuration={"limit_limit_gtc": {"base_size": "0.01", "limit_price": "999999.00"}},
    )
    carries(created, {"success", "success_response", "order_configuration"})
    order_id = created.success_response["order_id"]
    carries(
        client.preview_order(
            product_id="BTC-USD", side="BUY", order_configuration={"market_market_ioc": {"base_size": "0.01"}}
        ),
        {
            "order_total",
            "commission_total",
            "errs",
            "warning",
            "quote_size",
            "base_size",
            "best_bid",
            "best_ask",
            "is_max",
            "slippage",
            "preview_id",
        },
    )
    carries(
        client.preview_edit_order(order_id=order_id, size="0.02", price="999998.00"),
        {
            "errors",
            "slippage",
            "order_total",
            "commission_total",
            "quote_size",
            "base_size",
            "best_bid",
            "best_ask",
            "average_filled_price",
        },
    )
    carries(client.edit_order(order_id=order_id, size="0.02", price="999998.00"), {"success", "errors"})
    carries(client.get_order(order_id).order, ORDER)
    carries(client.list_orders(), {"orders", "sequence", "has_next", "cursor"})
    carries(client.cancel_orders(order_ids=[order_id]).results[0], {"success", "failure_reason", "order_id"})
    client.market_order_buy(client_order_id="s-2", product_id="BTC-USD", base_size="0.01")
    carries(client.get_fills(product_ids=["BTC-USD"]).fills[0], FILL)

    future = next(p.product_id for p in client.get_products(product_type="FUTURE").products if "-CDE" in p.product_id)
    client.market_order_buy(client_order_id="s-3", product_id=future, base_size="1")
    carries(client.get_futures_balance_summary().balance_summary, CFM_SUMMARY)
    carries(client.list_futures_positions().positions[0], CFM_POSITION)
    carries(client.get_futures_position(future).position, CFM_POSITION)
    carries(
        client.close_position(client_order_id="s-4", product_id=future),
        {"success", "success_response", "order_configuration"},
    )
    carries(client.schedule_futures_sweep("10"), {"success"})
    carries(
        client.list_futures_sweeps().sweeps[0],
        {"id", "requested_amount", "should_sweep_all", "status", "schedule_time"},
    )
    carries(client.cancel_pending_futures_sweep(), {"success"})
    carries(client.get_intraday_margin_setting(), {"setting"})
    client.set_intraday_margin_setting("INTRADAY_MARGIN_SETTING_STANDARD")
    carries(
        client.get_current_margin_window("MARGIN_PROFILE_TYPE_RETAIL_REGULAR"),
        {"margin_window", "is_intraday_margin_killswitch_enabled", "is_intraday_margin_enrollment_killswitch_enabled"},
    )

    portfolios = client.get_portfolios().portfolios
    carries(portfolios[0], {"name", "uuid", "type", "deleted"})
    carries(
        client.get_portfolio_breakdown(portfolios[0].uuid).breakdown,
        {"portfolio", "portfolio_balances", "spot_positions", "perp_positions", "futures_positions"},
    )
    intx = next(p.uuid for p in portfolios if p.type == "INTX")
    client.market_order_buy(client_order_id="s-5", product_id="BTC-PERP-INTX", base_size="0.01")
    carries(client.get_perps_portfolio_summary(intx), {"portfolios", "summary"})
    carries(client.list_perps_positions(intx), {"positions", "summary"})
    carries(
        client.get_perps_position(intx, "BTC-PERP-INTX").position,
        {
            "product_id",
            "symbol",
            "vwap",
            "position_side",
            "net_size",
            "mark_price",
            "unrealized_pnl",
            "position_notional",
        },
    )
    carries(client.get_perps_portfolio_balances(intx).portfolio_balances[0], {"portfolio_uuid", "balances"})
    summary = carries(client.get_transaction_summary(), {"fee_tier"})
    # Here Coinbase itself answers with JSON numbers, not strings.
    assert isinstance(summary["total_volume"], float)
    assert isinstance(summary["total_fees"], float)
    assert Decimal(summary["fee_tier"]["taker_fee_rate"]) == Decimal("0.006")
    carries(
        client.get_api_key_permissions(), {"can_view", "can_trade", "can_transfer", "portfolio_uuid", "portfolio_type"}
    )
