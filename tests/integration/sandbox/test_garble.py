"""Garbled answers, as a proxy rewriting them would give, reach the official SDK's RESTClient as they are:
the client sees what its strictness has to catch, and the work behind a garbled write is really done."""

from typing import Any

import pytest
import requests
from coinbase.rest import RESTClient

from gpttrader.sandbox import RunningSandbox
from tests.integration.sandbox.conftest import admin_call, inject

ACCOUNTS = "/api/v3/brokerage/accounts"
ORDERS = "/api/v3/brokerage/orders"


def buy(client: RESTClient, cid: str) -> Any:
    return client.market_order_buy(client_order_id=cid, product_id="BTC-USD", base_size="0.01")


def orders_at_the_exchange(client: RESTClient) -> list[str]:
    return [o.client_order_id for o in client.list_orders().orders]


def test_an_empty_object_answers_a_read(sandbox: RunningSandbox, client: RESTClient) -> None:
    inject(sandbox, kind="garble", body="empty_object", path_prefix=ACCOUNTS)
    garbled = client.get_accounts()
    assert not hasattr(garbled, "accounts")
    assert garbled.to_dict() == {}
    assert client.get_accounts().accounts  # one request garbled, the next one whole


@pytest.mark.parametrize(("work_first", "placed"), [(True, ["g-1"]), (False, [])])
def test_an_empty_object_answers_an_order(
    sandbox: RunningSandbox, client: RESTClient, work_first: bool, placed: list[str]
) -> None:
    inject(sandbox, kind="garble", body="empty_object", work_first=work_first, method="POST", path_prefix=ORDERS)
    assert buy(client, "g-1").to_dict() == {}
    assert orders_at_the_exchange(client) == placed


def test_an_html_page_with_200_is_not_json(sandbox: RunningSandbox, client: RESTClient) -> None:
    inject(sandbox, kind="garble", body="html", work_first=False, path_prefix=ACCOUNTS)
    with pytest.raises(requests.JSONDecodeError):
        client.get_accounts()


def test_an_html_error_page_is_an_http_error(sandbox: RunningSandbox, client: RESTClient) -> None:
    inject(sandbox, kind="garble", body="html", status=502, method="POST", path_prefix=ORDERS)
    with pytest.raises(requests.HTTPError) as raised:
        buy(client, "h-1")
    page = raised.value.response
    assert page is not None
    assert page.status_code == 502
    assert page.headers["Content-Type"].startswith("text/html")
    assert "<h1>502 Bad Gateway</h1>" in page.text
    assert orders_at_the_exchange(client) == ["h-1"]  # behind the proxy's page, the order was made


def test_a_truncated_answer_is_cut_json(sandbox: RunningSandbox, client: RESTClient) -> None:
    inject(sandbox, kind="garble", body="truncated", method="POST", path_prefix=ORDERS)
    with pytest.raises(requests.JSONDecodeError):
        buy(client, "t-1")
    assert orders_at_the_exchange(client) == ["t-1"]


def test_a_dropped_field_goes_wherever_it_occurs(sandbox: RunningSandbox, client: RESTClient) -> None:
    inject(sandbox, kind="garble", body="drop_field", field="available_balance", path_prefix=ACCOUNTS)
    accounts = client.get_accounts().accounts
    assert accounts
    assert not any(hasattr(a, "available_balance") for a in accounts)
    assert all(hasattr(a, "hold") for a in accounts)  # only the named field is gone


def test_a_lagging_listing_misses_its_last_entry(sandbox: RunningSandbox, client: RESTClient) -> None:
    for n in range(3):
        buy(client, f"l-{n}")
    listed = orders_at_the_exchange(client)
    inject(sandbox, kind="garble", body="lagging", method="GET", path_prefix=ORDERS)
    assert orders_at_the_exchange(client) == listed[:-1]
    assert orders_at_the_exchange(client) == listed  # once: the next read has caught up


@pytest.mark.parametrize("name", ["order_id", "success"])
def test_an_order_answer_without_a_field(sandbox: RunningSandbox, client: RESTClient, name: str) -> None:
    inject(sandbox, kind="garble", body="drop_field", field=name, method="POST", path_prefix=ORDERS)
    answer = buy(client, f"d-{name}").to_dict()
    assert name not in answer
    assert name not in answer["success_response"]
    assert answer["success_response"]["client_order_id"] == f"d-{name}"
    assert orders_at_the_exchange(client) == [f"d-{name}"]


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"body": "xml"}, "body must be one of empty_object, html, truncated, drop_field, lagging"),
        ({"body": "html", "status": 418}, "status must be one of (200, 500, 502, 503, 504)"),
        ({"body": "empty_object", "work_first": "yes"}, "work_first must be true or false"),
        ({"body": "truncated", "work_first": False}, "work_first must be true for body truncated"),
        ({"body": "drop_field"}, "field must be a JSON key"),
        ({"body": "drop_field", "field": "a.b"}, "field must be a JSON key"),
    ],
)
def test_garble_plans_are_validated(sandbox: RunningSandbox, plan: dict[str, object], message: str) -> None:
    response = admin_call(sandbox, "POST", "faults", {"kind": "garble", **plan})
    assert response.status_code == 400
    assert message in response.json()["message"]
