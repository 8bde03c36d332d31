"""Coinbase Advanced Trade JSON shapes: numbers as strings, times in RFC 3339, as the SDK's types expect."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from gpttrader.domain import ProductType, Side
from gpttrader.sandbox.catalog import Listing
from gpttrader.sandbox.exchange import Account, SandboxFill, SandboxOrder
from gpttrader.sandbox.future_details import future_details, trading_session
from gpttrader.sandbox.prices import PricePath

FIAT = frozenset({"USD", "USDC", "EUR"})
PORTFOLIO_ID = "sandbox-portfolio"  # the one retail portfolio the sandbox's accounts, orders and fills are in


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def price(value: float, quantum: Decimal) -> str:
    """A price from the float price path, on the product's tick."""
    return str(Decimal(repr(value)).quantize(quantum))


def market_trade(listing: Listing, path: PricePath, step: int, moment: datetime) -> dict[str, Any]:
    """Trade number `step` of the synthetic tape (one trade every twelfth of a path minute), the same
    trade whether REST or the WebSocket feed reports it."""
    product = listing.product
    position = step / 12
    size = Decimal(repr(path.minute_volume(position) / 12)).quantize(product.base_increment)
    return {
        "trade_id": str(step),
        "product_id": product.product_id,
        "price": price(path.price(position), product.quote_increment),
        "size": str(max(size, product.base_increment)),
        "side": "BUY" if step % 2 else "SELL",
        "time": rfc3339(moment),
    }


def money(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def product(
    listing: Listing, price: Decimal, change_24h: Decimal, volume_24h: Decimal, now: datetime
) -> dict[str, Any]:
    p = listing.product
    body: dict[str, Any] = {
        "product_id": p.product_id,
        "price": str(price),
        "price_percentage_change_24h": money(change_24h),
        "volume_24h": money(volume_24h),
        "volume_percentage_change_24h": "0",
        "base_increment": str(p.base_increment),
        "quote_increment": str(p.quote_increment),
        "quote_min_size": str(p.quote_min_size),
        "quote_max_size": "150000000",
        "base_min_size": str(p.base_min_size),
        "base_max_size": str(p.base_max_size),
        "base_name": listing.base_name,
        "quote_name": "US Dollar" if p.quote_currency == "USD" else p.quote_currency,
        "watched": False,
        "is_disabled": False,
        "new": False,
        "status": "online",
        "cancel_only": False,
        "limit_only": False,
        "post_only": False,
        "trading_disabled": False,
        "auction_mode": False,
        # Coinbase lists INTX perpetuals as FUTURE with contract_expiry_type PERPETUAL.
        "product_type": "SPOT" if p.product_type is ProductType.SPOT else "FUTURE",
        "quote_currency_id": p.quote_currency,
        "base_currency_id": p.base_currency if p.product_type is ProductType.SPOT else "",
        "fcm_trading_session_details": None,
        "mid_market_price": str(price),
        "alias": "",
        "alias_to": [],
        "base_display_symbol": p.base_currency,
        "quote_display_symbol": p.quote_currency,
        "view_only": False,
        "price_increment": str(p.quote_increment),
        "display_name": listing.display_name or p.product_id,
        "product_venue": listing.venue,
        "approximate_quote_24h_volume": money(volume_24h * price),
        "new_at": None,
        "market_cap": "",
        "base_cbrn": "",
        "quote_cbrn": "",
        "product_cbrn": "",
        "icon_color": "",
        "icon_url": "",
        "display_name_overwrite": "",
        "is_alpha_testing": False,
        "about_description": "",
        "best_bid_price": "",
        "best_ask_price": "",
    }
    if p.product_type is not ProductType.SPOT:
        body["future_product_details"] = future_details(listing, price, now)
        if p.product_type is ProductType.FUTURE:
            body["fcm_trading_session_details"] = trading_session(now)
            # As Coinbase lists CFM futures: no status, no base symbol, the price grid in price_increment.
            body.update(status="", base_display_symbol="", quote_increment="0.01")
    return body


def account(entry: Account) -> dict[str, Any]:
    return {
        "uuid": entry.uuid,
        "name": f"{entry.currency} Wallet",
        "currency": entry.currency,
        "available_balance": {"value": money(entry.available), "currency": entry.currency},
        "default": entry.currency == "USD",
        "active": True,
        "created_at": rfc3339(entry.created_at),
        "updated_at": rfc3339(entry.created_at),
        "deleted_at": None,
        # The API reference's enumeration (ACCOUNT_TYPE_VAULT and ACCOUNT_TYPE_PERP_FUTURES are accounts the
        # sandbox does not keep): older answers, and Coinbase's own examples, say FIAT and CRYPTO.
        "type": "ACCOUNT_TYPE_FIAT" if entry.currency in FIAT else "ACCOUNT_TYPE_CRYPTO",
        "ready": True,
        "hold": {"value": money(entry.hold), "currency": entry.currency},
        "retail_portfolio_id": PORTFOLIO_ID,
    }


def order(entry: SandboxOrder) -> dict[str, Any]:
    quote_size = entry.ticket.quote_size
    if quote_size is not None:  # a quote-sized buy is as complete as its quote is spent, fees included
        completion = (entry.filled_value + entry.total_fees) / quote_size * 100
    else:
        completion = entry.filled_size / entry.base_size * 100 if entry.base_size else Decimal(0)
    return {
        "order_id": entry.order_id,
        "product_id": entry.product_id,
        "user_id": "sandbox-user",
        "order_configuration": entry.configuration,
        "side": entry.side.value,
        "client_order_id": entry.client_order_id,
        "status": entry.status,
        "time_in_force": entry.time_in_force,
        "created_time": rfc3339(entry.created_time),
        "completion_percentage": money(completion.quantize(Decimal("0.01"))),
        "filled_size": money(entry.filled_size),
        "average_filled_price": money(entry.average_price),
        "fee": "",
        "number_of_fills": str(entry.fill_count),
        "filled_value": money(entry.filled_value),
        "pending_cancel": False,
        "size_in_quote": quote_size is not None,
        "total_fees": money(entry.total_fees),
        "size_inclusive_of_fees": quote_size is not None,
        "total_value_after_fees": money(
            entry.filled_value + entry.total_fees if entry.side is Side.BUY else entry.filled_value - entry.total_fees
        ),
        "trigger_status": entry.trigger_status,
        "order_type": entry.order_type,
        "reject_reason": "REJECT_REASON_UNSPECIFIED",
        "settled": entry.status in ("FILLED", "CANCELLED", "EXPIRED"),
        "product_type": "SPOT" if entry.product_type is ProductType.SPOT else "FUTURE",
        "reject_message": "",
        "cancel_message": entry.cancel_message,
        "order_placement_source": "RETAIL_ADVANCED",
        "outstanding_hold_amount": money(entry.hold),
        "is_liquidation": False,
        "last_fill_time": rfc3339(entry.last_fill_time) if entry.last_fill_time else None,
        "leverage": "",
        "margin_type": "CROSS",
        "retail_portfolio_id": PORTFOLIO_ID,
        "originating_order_id": "",
        "attached_order_id": "",
    }


def fill(entry: SandboxFill) -> dict[str, Any]:
    return {
        "entry_id": entry.entry_id,
        "trade_id": entry.trade_id,
        "order_id": entry.order_id,
        "trade_time": rfc3339(entry.trade_time),
        "trade_type": "FILL",
        "price": money(entry.price),
        # A fill of a quote-sized order says its size in quote, as Coinbase's do (size_in_quote).
        "size": money(entry.price * entry.size if entry.size_in_quote else entry.size),
        "commission": money(entry.commission),
        "product_id": entry.product_id,
        "sequence_timestamp": rfc3339(entry.trade_time),
        "liquidity_indicator": entry.liquidity.value,
        "size_in_quote": entry.size_in_quote,
        "user_id": "sandbox-user",
        "side": entry.side.value,
        "retail_portfolio_id": PORTFOLIO_ID,
    }


def error(code: str, message: str) -> dict[str, Any]:
    return {"error": code, "error_details": message, "message": message}
