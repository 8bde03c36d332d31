"""CFM futures and INTX perpetuals through the official SDK: positions, margin, sweeps, portfolios."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
from coinbase.rest import RESTClient

from gpttrader.domain.funding import FUNDING_RATE_PER_HOUR, funding_payment
from gpttrader.sandbox import RunningSandbox
from tests.integration.sandbox.conftest import SandboxFactory, sdk_client


def a_future(client: RESTClient) -> str:
    return next(
        p.product_id for p in client.get_products(product_type="FUTURE").products if p.product_id.startswith("BIT-")
    )


def test_a_futures_position_opens_shows_in_the_cfm_summary_and_closes(client: RESTClient) -> None:
    product_id = a_future(client)
    before = client.get_futures_balance_summary().balance_summary
    assert Decimal(before["cfm_usd_balance"]["value"]) == Decimal(10_000)
    assert Decimal(before["initial_margin"]["value"]) == 0
    placed = client.market_order_buy(client_order_id="f-1", product_id=product_id, base_size="3")
    assert placed.success, placed.to_dict()
    positions = client.list_futures_positions().positions
    assert [(p["product_id"], p["side"], p["number_of_contracts"]) for p in positions] == [(product_id, "LONG", "3")]
    position = client.get_futures_position(product_id).position
    assert position["contract_size"] == "0.01"
    summary = client.get_futures_balance_summary().balance_summary
    notional = Decimal(position["position_notional"]["value"])
    assert Decimal(summary["initial_margin"]["value"]) == notional * Decimal("0.20")
    assert Decimal(summary["available_margin"]["value"]) < Decimal(10_000)
    fees = Decimal(client.get_order(placed.success_response["order_id"]).order.total_fees)
    closed = client.close_position(client_order_id="f-2", product_id=product_id)
    assert closed.success, closed.to_dict()
    assert client.list_futures_positions().positions == []
    with pytest.raises(requests.HTTPError, match="404"):
        client.get_futures_position(product_id)
    after = client.get_futures_balance_summary().balance_summary
    close_fees = Decimal(client.get_order(closed.success_response["order_id"]).order.total_fees)
    realized = Decimal(after["daily_realized_pnl"]["value"])
    assert Decimal(after["cfm_usd_balance"]["value"]) == Decimal(10_000) + realized - fees - close_fees
    assert Decimal(after["initial_margin"]["value"]) == 0


def test_futures_margin_is_enforced(client: RESTClient) -> None:
    result = client.market_order_buy(client_order_id="f-big", product_id=a_future(client), base_size="100")
    assert result.success is False
    assert result.error_response["error"] == "INSUFFICIENT_FUND"


def test_intraday_margin_setting_window_and_sweeps(client: RESTClient) -> None:
    assert client.get_intraday_margin_setting().setting == "INTRADAY_MARGIN_SETTING_STANDARD"
    client.set_intraday_margin_setting("INTRADAY_MARGIN_SETTING_INTRADAY")
    assert client.get_intraday_margin_setting().setting == "INTRADAY_MARGIN_SETTING_INTRADAY"
    with pytest.raises(requests.HTTPError, match="setting must be"):
        client.set_intraday_margin_setting("YOLO")
    window = client.get_current_margin_window("MARGIN_PROFILE_TYPE_RETAIL_REGULAR").margin_window
    assert window["margin_window_type"] in ("FCM_MARGIN_WINDOW_TYPE_INTRADAY", "FCM_MARGIN_WINDOW_TYPE_OVERNIGHT")
    assert client.schedule_futures_sweep("1000").success is True
    assert client.schedule_futures_sweep("10").success is False  # one pending sweep at a time
    sweeps = client.list_futures_sweeps().sweeps
    assert [(s["status"], s["requested_amount"]["value"]) for s in sweeps] == [("PENDING", "1000")]
    assert client.cancel_pending_futures_sweep().success is True
    assert client.list_futures_sweeps().sweeps[0]["status"] == "CANCELLED"
    assert client.schedule_futures_sweep("999999").success is False


def test_intx_is_refused_without_derivatives(client: RESTClient) -> None:
    with pytest.raises(requests.HTTPError, match="404"):
        client.get_perps_portfolio_summary("sandbox-intx")
    result = client.market_order_buy(client_order_id="x-1", product_id="BTC-PERP-INTX", base_size="0.01")
    assert result.error_response["error"] == "INVALID_PRODUCT_ID"
    assert [p.type for p in client.get_portfolios().portfolios] == ["DEFAULT"]


OPENED = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)


def public_candles(client: RESTClient, start: datetime, end: datetime) -> list[Any]:
    candles = client.get_public_candles(
        "BTC-PERP-INTX", start=str(int(start.timestamp())), end=str(int(end.timestamp())), granularity="ONE_MINUTE"
    )
    return [c.to_dict() if hasattr(c, "to_dict") else c for c in candles.candles]


def test_intx_perpetuals_with_derivatives(start_sandbox: SandboxFactory) -> None:
    sandbox = start_sandbox(derivatives_enabled=True, virtual_start=OPENED.timestamp(), speed=1.0)
    client = sdk_client(sandbox)
    portfolio = next(p.uuid for p in client.get_portfolios(portfolio_type="INTX").portfolios)
    placed = client.market_order_sell(client_order_id="x-2", product_id="BTC-PERP-INTX", base_size="0.05")
    assert placed.success, placed.to_dict()
    positions = client.list_perps_positions(portfolio).positions
    assert [(p["symbol"], p["position_side"], p["net_size"]) for p in positions] == [
        ("BTC-PERP-INTX", "POSITION_SIDE_SHORT", "-0.05")
    ]
    position = client.get_perps_position(portfolio, "BTC-PERP-INTX").position
    assert position["mark_price"]["currency"] == "USDC"
    balance = Decimal(client.get_perps_portfolio_balances(portfolio).portfolio_balances[0]["balances"][0]["quantity"])
    sandbox.advance_to(OPENED + timedelta(hours=3, minutes=2))  # held into 13:00, 14:00 and 15:00
    later = Decimal(client.get_perps_portfolio_balances(portfolio).portfolio_balances[0]["balances"][0]["quantity"])
    # A short receives, at each hour's first-minute close (the rule of gpttrader.domain.funding, every venue's)
    closes = {c["start"]: Decimal(c["close"]) for c in public_candles(client, OPENED, OPENED + timedelta(hours=4))}
    hours = [OPENED.replace(minute=0) + timedelta(hours=h) for h in (1, 2, 3)]
    product = client.get_product("BTC-PERP-INTX")
    multiplier = Decimal(product.future_product_details["contract_size"]) if product.future_product_details else 1
    expected = sum(
        funding_payment(Decimal("-0.05"), closes[str(int(h.timestamp()))], Decimal(multiplier), FUNDING_RATE_PER_HOUR)
        for h in hours
    )
    assert later - balance == -expected > 0
    summary = client.get_perps_portfolio_summary(portfolio).summary
    assert summary["total_balance"]["currency"] == "USDC"
    breakdown = client.get_portfolio_breakdown(portfolio).breakdown
    assert [p["symbol"] for p in breakdown["perp_positions"]] == ["BTC-PERP-INTX"]


def test_portfolio_breakdown_lists_spot_holdings(sandbox: RunningSandbox, client: RESTClient) -> None:
    breakdown = client.get_portfolio_breakdown("sandbox-portfolio").breakdown
    assets = {p["asset"]: p for p in breakdown["spot_positions"]}
    assert assets["USD"]["is_cash"] is True
    assert assets["BTC"]["total_balance_crypto"] == 1.0
    assert abs(sum(p["allocation"] for p in breakdown["spot_positions"]) - 1.0) < 0.05
    with pytest.raises(requests.HTTPError, match="404"):
        client.get_portfolio_breakdown("nope")
