"""A CFM perpetual-style future's funding on the sandbox: charged every hour it is held into, kept accrued
in the CFM balance summary's unrealized PnL, and settled into the CFM cash balance at 00:00 and 12:00 UTC
(gpttrader.domain.funding, every venue's rule)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from coinbase.rest import RESTClient

from gpttrader.domain.funding import FUNDING_RATE_PER_HOUR, funding_payment
from tests.integration.sandbox.conftest import SandboxFactory, sdk_client

OPENED = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
BIP = "BIP-20DEC30-CDE"


def figures(client: RESTClient) -> tuple[Decimal, Decimal, Decimal]:
    """The CFM cash balance, the summary's unrealized PnL, and the position's price PnL alone."""
    summary = client.get_futures_balance_summary().balance_summary
    held = client.get_futures_position(BIP).position
    moved = Decimal(held["current_price"]["value"]) - Decimal(held["avg_entry_price"]["value"])
    price_pnl = moved * Decimal(held["number_of_contracts"]) * Decimal(held["contract_size"])
    return Decimal(summary["cfm_usd_balance"]["value"]), Decimal(summary["unrealized_pnl"]["value"]), price_pnl


def hourly(client: RESTClient, hour: datetime) -> Decimal:
    """One hour's funding of 2 contracts long: the rate on the notional at the close of its first minute."""
    start, end = (str(int(t.timestamp())) for t in (hour, hour + timedelta(minutes=2)))
    candles = client.get_public_candles(BIP, start=start, end=end, granularity="ONE_MINUTE").candles
    close = next(Decimal(c["close"]) for c in candles if c["start"] == start)
    return funding_payment(Decimal(2), close, Decimal("0.01"), FUNDING_RATE_PER_HOUR)


def test_funding_accrues_hourly_and_settles_into_the_cfm_balance_at_noon(start_sandbox: SandboxFactory) -> None:
    sandbox = start_sandbox(virtual_start=OPENED.timestamp(), speed=1.0)
    client = sdk_client(sandbox)
    assert client.market_order_buy(client_order_id="bip-1", product_id=BIP, base_size="2").success
    balance, _, _ = figures(client)

    sandbox.advance_to(OPENED + timedelta(minutes=32))  # held into 11:00, whose first minute has closed
    eleven = hourly(client, OPENED.replace(hour=11, minute=0))
    assert eleven > 0
    held_balance, unrealized, price_pnl = figures(client)
    assert held_balance == balance  # accrued, not settled
    assert unrealized == price_pnl - eleven

    sandbox.advance_to(OPENED + timedelta(hours=1, minutes=32))  # and into 12:00, a settlement time
    noon = hourly(client, OPENED.replace(hour=12, minute=0))
    settled_balance, unrealized, price_pnl = figures(client)
    assert settled_balance == balance - eleven - noon
    assert unrealized == price_pnl  # nothing left accrued

    sandbox.advance_to(OPENED + timedelta(hours=2, minutes=32))  # 13:00 accrues towards midnight
    later_balance, unrealized, price_pnl = figures(client)
    assert later_balance == settled_balance
    assert unrealized == price_pnl - hourly(client, OPENED.replace(hour=13, minute=0))
