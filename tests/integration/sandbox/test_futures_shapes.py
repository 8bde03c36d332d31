"""The sandbox's futures answers, field by field, as Coinbase's: each parsed by the official SDK's typed
response class, no field that neither the SDK's class declares nor Coinbase's own answers carry, and every
field Coinbase's answers carry present with its type (prices as {value, currency} money objects).

COINBASE_SHAPES are the shapes (field names and JSON types, no values) of Coinbase's answers as public
clients record them: a CFM balance summary, a CFM position and a perpetual-style future's product. INTX
answers have no recorded example here, so the SDK's declared fields are the reference for them."""

import copy
import inspect
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from coinbase.rest import RESTClient
from coinbase.rest.types import futures_types, perpetuals_types, product_types
from coinbase.rest.types.base_response import BaseResponse

from gpttrader.sandbox import RunningSandbox
from tests.integration.sandbox.conftest import SandboxFactory, sdk_client

OPENED = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)
API = "/api/v3/brokerage"
MONEY = "money"  # {"value": str, "currency": str}
NULLABLE = "str|None"  # null in one of Coinbase's answers, a string in another
_MEASURE = {
    "margin_window_type": "str",
    "margin_level": "str",
    "initial_margin": MONEY,
    "maintenance_margin": MONEY,
    "liquidation_buffer_percentage": "str",
    "total_hold": MONEY,
    "futures_buying_power": MONEY,
}
BALANCE_SUMMARY: dict[str, Any] = {
    **dict.fromkeys(("futures_buying_power", "total_usd_balance", "cbi_usd_balance", "cfm_usd_balance"), MONEY),
    **dict.fromkeys(("total_open_orders_hold_amount", "unrealized_pnl", "daily_realized_pnl", "initial_margin"), MONEY),
    **dict.fromkeys(("available_margin", "liquidation_threshold", "liquidation_buffer_amount"), MONEY),
    "liquidation_buffer_percentage": "str",
    "intraday_margin_window_measure": _MEASURE,
    "overnight_margin_window_measure": _MEASURE,
}
POSITION: dict[str, Any] = {
    **dict.fromkeys(("product_id", "expiration_time", "side", "number_of_contracts", "contract_size"), "str"),
    "leverage": "str",
    **dict.fromkeys(("current_price", "avg_entry_price", "unrealized_pnl", "daily_realized_pnl"), MONEY),
    **dict.fromkeys(("total_fees", "entry_vwap", "liquidation_price", "im_contribution"), MONEY),
    **dict.fromkeys(("mm_contribution", "position_notional"), MONEY),
}
_STRINGS = [
    "product_id",
    "price",
    "price_percentage_change_24h",
    "volume_24h",
    "volume_percentage_change_24h",
    "base_increment",
    "quote_increment",
    "quote_min_size",
    "quote_max_size",
    "base_min_size",
    "base_max_size",
    "base_name",
    "quote_name",
    "status",
    "product_type",
    "quote_currency_id",
    "base_currency_id",
    "mid_market_price",
    "alias",
    "base_display_symbol",
    "quote_display_symbol",
    "price_increment",
    "display_name",
    "product_venue",
    "approximate_quote_24h_volume",
    "market_cap",
    "base_cbrn",
    "quote_cbrn",
    "product_cbrn",
    "icon_color",
    "icon_url",
    "display_name_overwrite",
    "about_description",
    "best_bid_price",
    "best_ask_price",
]
_FLAGS = [
    "watched",
    "is_disabled",
    "new",
    "cancel_only",
    "limit_only",
    "post_only",
    "trading_disabled",
    "auction_mode",
    "view_only",
    "is_alpha_testing",
]
_RATES = {"long_margin_rate": "str", "short_margin_rate": "str"}
PERPETUAL_STYLE_PRODUCT: dict[str, Any] = {
    **dict.fromkeys(_STRINGS, "str"),
    **dict.fromkeys(_FLAGS, "bool"),
    "alias_to": "list",
    "new_at": NULLABLE,
    "fcm_trading_session_details": {
        **dict.fromkeys(("open_time", "close_time", "session_state", "closed_reason"), "str"),
        "is_session_open": "bool",
        "after_hours_order_entry_disabled": "bool",
        "maintenance": {"start_time": "str", "end_time": "str"},
    },
    "future_product_details": {
        **dict.fromkeys(
            [
                "venue",
                "contract_code",
                "contract_expiry",
                "contract_size",
                "contract_root_unit",
                "group_description",
                "contract_expiry_timezone",
                "group_short_description",
                "risk_managed_by",
                "contract_expiry_type",
                "contract_display_name",
                "time_to_expiry_ms",
                "contract_expiry_name",
                "funding_interval",
                "open_interest",
                "funding_rate",
                "funding_time",
                "display_name",
                "settlement_price",
                "futures_asset_type",
                "index_price",
                "contract_code_display_name",
                "product_group_cbrn",
            ],
            "str",
        ),
        "perpetual_details": {
            **dict.fromkeys(("open_interest", "funding_rate", "max_leverage", "base_asset_uuid"), "str"),
            "underlying_type": "str",
            "funding_time": NULLABLE,
        },
        "non_crypto": "bool",
        "twenty_four_by_seven": "bool",
        "region_enabled": "dict",
        "intraday_margin_rate": _RATES,
        "overnight_margin_rate": _RATES,
    },
}


def declared(cls: type[BaseResponse]) -> set[str]:
    """The fields the SDK's typed class reads by name."""
    return set(re.findall(r'if "(\w+)" in (?:kwargs|response)', inspect.getsource(cls)))


def differences(answer: Any, shape: Any, where: str) -> list[str]:
    if shape == MONEY:
        ok = isinstance(answer, dict) and set(answer) == {"value", "currency"}
        return [] if ok and all(isinstance(v, str) for v in answer.values()) else [f"{where}: {answer!r} not money"]
    if shape == NULLABLE:
        return [] if answer is None or isinstance(answer, str) else [f"{where}: {answer!r} not a string or null"]
    if isinstance(shape, str):
        return [] if type(answer).__name__ == shape else [f"{where}: {answer!r} is not {shape}"]
    if not isinstance(answer, dict):
        return [f"{where}: {answer!r} is not an object"]
    missing = [f"{where}.{name}: missing" for name in shape if name not in answer]
    return missing + [
        f for name in shape if name in answer for f in differences(answer[name], shape[name], f"{where}.{name}")
    ]


def unknown(answer: dict[str, Any], cls: type[BaseResponse], shape: dict[str, Any]) -> set[str]:
    return set(answer) - declared(cls) - set(shape)


@pytest.fixture
def market(start_sandbox: SandboxFactory) -> RunningSandbox:
    return start_sandbox(derivatives_enabled=True, virtual_start=OPENED.timestamp())


@pytest.fixture
def trading(market: RunningSandbox) -> RESTClient:
    """A client holding a perpetual-style future, a monthly future and an INTX perpetual."""
    client = sdk_client(market)
    monthly = next(
        p.product_id for p in client.get_products(product_type="FUTURE").products if p.product_id[:4] == "BIT-"
    )
    for n, (product_id, size) in enumerate((("BIP-20DEC30-CDE", "2"), (monthly, "1"), ("BTC-PERP-INTX", "0.01"))):
        assert client.market_order_buy(client_order_id=f"shape-{n}", product_id=product_id, base_size=size).success
    return client


def test_the_cfm_balance_summary_is_coinbases(trading: RESTClient) -> None:
    raw = trading.get(f"{API}/cfm/balance_summary")
    typed = futures_types.GetFuturesBalanceSummaryResponse(copy.deepcopy(raw))
    assert typed.balance_summary is not None
    summary = raw["balance_summary"]
    assert differences(summary, BALANCE_SUMMARY, "balance_summary") == []
    assert unknown(summary, futures_types.FCMBalanceSummary, BALANCE_SUMMARY) == set()


def test_cfm_positions_are_coinbases(trading: RESTClient) -> None:
    listed = trading.get(f"{API}/cfm/positions")
    typed = futures_types.ListFuturesPositionsResponse(copy.deepcopy(listed))
    assert [p.product_id for p in typed.positions or []][:1] == ["BIP-20DEC30-CDE"]
    one = trading.get(f"{API}/cfm/positions/BIP-20DEC30-CDE")
    assert futures_types.GetFuturesPositionResponse(copy.deepcopy(one)).position is not None
    for position in [*listed["positions"], one["position"]]:
        assert differences(position, POSITION, "position") == []
        assert unknown(position, futures_types.FCMPosition, POSITION) == set()


def test_a_perpetual_style_future_is_listed_as_coinbase_lists_it(trading: RESTClient) -> None:
    raw = trading.get(f"{API}/products/BIP-20DEC30-CDE")
    typed = product_types.GetProductResponse(copy.deepcopy(raw))
    assert typed.product_type == "FUTURE"
    assert differences(raw, PERPETUAL_STYLE_PRODUCT, "product") == []
    assert unknown(raw, product_types.GetProductResponse, PERPETUAL_STYLE_PRODUCT) == set()
    details = raw["future_product_details"]
    assert set(details) == set(PERPETUAL_STYLE_PRODUCT["future_product_details"])
    assert (details["contract_expiry_type"], details["funding_interval"], details["contract_size"]) == (
        "EXPIRING",
        "3600s",
        "0.01",
    )
    assert details["contract_expiry"] == "2030-12-20T16:00:00Z"  # five years from the July 2025 listing
    assert trading.get(f"{API}/products/ETP-20DEC30-CDE")["future_product_details"]["contract_size"] == "0.1"
    monthly = trading.get(f"{API}/products", params={"product_type": "FUTURE"})["products"]
    for product in monthly:
        assert set(product) == set(PERPETUAL_STYLE_PRODUCT), product["product_id"]
        assert set(product["future_product_details"]) == set(details), product["product_id"]


def test_intx_portfolio_and_positions_carry_every_field_the_sdk_declares(trading: RESTClient) -> None:
    summary = trading.get(f"{API}/intx/portfolio/sandbox-intx")
    (portfolio,) = summary["portfolios"]
    assert declared(perpetuals_types.PerpetualPortfolio) - set(portfolio) == set()
    assert set(portfolio) - declared(perpetuals_types.PerpetualPortfolio) == set()
    assert declared(perpetuals_types.PortfolioSummary) == set(summary["summary"])
    (position,) = trading.get(f"{API}/intx/positions/sandbox-intx")["positions"]
    assert declared(perpetuals_types.Position) == set(position)
    for name in ("vwap", "entry_vwap", "unrealized_pnl", "mark_price", "liquidation_price", "position_notional"):
        assert differences(position[name], MONEY, name) == []
