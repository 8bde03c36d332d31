"""The adapter under the sandbox's faults: what is safe to retry is retried, and nothing is duplicated."""

import time
from decimal import Decimal

import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.brokers.coinbase import CoinbaseBroker
from gpttrader.brokers.errors import ExchangeUnavailableError
from gpttrader.config import BotConfig
from gpttrader.domain import OrderRequest, OrderStatus, OrderType, Side
from gpttrader.sandbox import RunningSandbox
from tests.integration.sandbox.conftest import admin_call, inject, sdk_client

ACCOUNTS = "/api/v3/brokerage/accounts"
ORDERS = "/api/v3/brokerage/orders"


def market(cid: str, size: str = "0.05") -> OrderRequest:
    return OrderRequest(cid, "BTC-USD", Side.BUY, OrderType.MARKET, Decimal(size))


def test_429s_are_waited_out(sandbox: RunningSandbox, broker: CoinbaseBroker) -> None:
    inject(sandbox, kind="rate_limit", count=2, retry_after=0.3, path_prefix=ACCOUNTS)
    started = time.monotonic()
    balances = broker.balances()
    assert time.monotonic() - started >= 0.5
    assert any(b.currency == "USD" for b in balances)
    assert broker.retry.retries == 2


def test_5xx_reads_are_retried(sandbox: RunningSandbox, broker: CoinbaseBroker) -> None:
    inject(sandbox, kind="http_error", status=503, count=2, path_prefix="/api/v3/brokerage/products/BTC-USD")
    assert broker.product("BTC-USD").product_id == "BTC-USD"
    assert broker.retry.retries == 2


def test_reads_give_up_after_the_last_attempt(sandbox: RunningSandbox, broker: CoinbaseBroker) -> None:
    inject(sandbox, kind="http_error", status=500, count=10, path_prefix=ACCOUNTS)
    with pytest.raises(ExchangeUnavailableError, match="HTTP 500"):
        broker.balances()
    assert broker.retry.retries == broker.retry.max_attempts - 1


def test_a_write_whose_answer_was_lost_is_retried_without_a_second_order(
    sandbox: RunningSandbox, broker: CoinbaseBroker
) -> None:
    broker.product("BTC-USD")  # warm the catalog so that the fault hits the create itself
    inject(sandbox, kind="error_after", status=502, count=2, method="POST", path_prefix=ORDERS)
    order = broker.place_order(market("w-1"))
    assert order.status is OrderStatus.FILLED
    assert broker.retry.retries == 2
    orders = sdk_client(sandbox).list_orders().orders
    assert [o.client_order_id for o in orders] == ["w-1"]
    assert sum(f.size for f in broker.fills(order_id=order.order_id)) == Decimal("0.05")


def test_latency_is_added(sandbox: RunningSandbox, broker: CoinbaseBroker) -> None:
    inject(sandbox, kind="latency", latency_ms=300, count=1, path_prefix=ACCOUNTS)
    started = time.monotonic()
    broker.balances()
    assert time.monotonic() - started >= 0.3


def test_an_order_whose_answer_is_lost_is_unknown_until_found_by_its_client_order_id(
    sandbox: RunningSandbox, config: BotConfig
) -> None:
    with ApplicationContainer(config) as app:
        app.coinbase_broker.product("BTC-USD")
        inject(sandbox, kind="error_after", status=503, count=10, method="POST", path_prefix=ORDERS)
        with pytest.raises(ExchangeUnavailableError):
            app.order_executor.submit(market("u-1"))
        stored = app.orders_store.get("u-1")
        assert stored is not None
        assert stored.status is OrderStatus.UNKNOWN  # never "not placed", never REJECTED
        assert app.event_store.tail(1)[0].type == "order.unknown"
        # It did reach the venue, exactly once: the look-up by client order id finds it.
        assert [o.client_order_id for o in sdk_client(sandbox).list_orders().orders] == ["u-1"]
        admin_call(sandbox, "DELETE", "faults")
        found = {o.client_order_id: o for o in app.order_executor.venue_orders("BTC-USD")}
        resolved = app.order_executor.resolve(stored, found.get("u-1"))
        assert resolved.status is OrderStatus.FILLED
        assert resolved.filled_size == Decimal("0.05")


def test_fault_plans_are_bounded_and_validated(sandbox: RunningSandbox) -> None:
    for plan, message in (
        ({"kind": "meteor"}, "kind must be one of"),
        ({"kind": "http_error", "count": 10_000}, "count must be a whole number from 1 to 1000"),
        ({"kind": "http_error", "status": 418}, "status must be one of"),
        ({"kind": "latency", "latency_ms": 60_000}, "latency_ms must be from 1 to 10000"),
        ({"kind": "rate_limit", "retry_after": 120}, "retry_after must be from 0 to 30"),
    ):
        response = admin_call(sandbox, "POST", "faults", plan)
        assert response.status_code == 400
        assert message in response.json()["message"]
    inject(sandbox, kind="http_error", count=5)
    cleared = admin_call(sandbox, "DELETE", "faults")
    assert cleared.json()["cleared"] is True
    assert sdk_client(sandbox).get_accounts().accounts
