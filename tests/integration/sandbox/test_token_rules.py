"""Coinbase's token rules: who may issue a token, how long it lives, that it is used once, and that REST and
WebSocket tokens are not interchangeable; while the official SDK, REST and WebSocket, keeps working."""

import json
import logging
import time

import pytest
import requests
from coinbase.websocket import WSClient

from gpttrader.sandbox import RunningSandbox
from tests.integration.sandbox.conftest import sdk_client
from tests.integration.sandbox.feeds import Collector
from tests.integration.sandbox.tokens import ACCOUNTS, make_token, raw_get, rest_uri, subscribe_user
from tests.waiting import wait_for


def assert_refused(response: requests.Response, caplog: pytest.LogCaptureFixture, reason: str) -> None:
    """Refused as Coinbase refuses, a plain-text 401; the sandbox's log says which rule refused it."""
    assert response.status_code == 401, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text.strip() == "Unauthorized"
    assert reason in caplog.text


@pytest.fixture(autouse=True)
def sandbox_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gpttrader.sandbox")


def test_the_sdk_keeps_working_over_rest_and_websocket(sandbox: RunningSandbox) -> None:
    client = sdk_client(sandbox)
    for _ in range(5):  # tokens made within the same second are still distinct tokens
        assert client.get_accounts().accounts
    key = json.loads(sandbox.settings.key_files[0].read_text())
    collector = Collector()
    ws = WSClient(api_key=key["name"], api_secret=key["privateKey"], base_url=sandbox.ws_url, on_message=collector)
    ws.open()
    try:
        ws.subscribe([], ["user", "futures_balance_summary"])
        ws.subscribe(["BTC-USD"], ["heartbeats"])
        wait_for(lambda: len(collector.on("user")) >= 1 and len(collector.on("futures_balance_summary")) >= 1)
    finally:
        ws.close()
    assert not [m for m in collector.messages if m.get("type") == "error"]


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": "coinbase-cloud", "aud": ["retail_rest_api_proxy"]},  # ccxt and older Coinbase samples
        {"iss": "coinbase-cloud"},  # the official SDK from 1.2.2 to 1.4.0
        {"iss": "cdp", "aud": ["retail_rest_api_proxy"]},
        {"iss": "coinbase-cloud", "aud": "retail_rest_api_proxy"},  # a single audience, not in a list
    ],
)
def test_issuers_and_audiences_that_coinbase_accepts(sandbox: RunningSandbox, claims: dict[str, object]) -> None:
    response = raw_get(sandbox, ACCOUNTS, make_token(sandbox, rest_uri(sandbox), claims=claims))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"iss": "someone-else"}, "issuer"),
        ({"iss": "coinbase-cloud", "aud": ["cdp_service"]}, "audience"),
        ({"iss": "coinbase-cloud", "aud": ["public_websocket_api"]}, "audience"),
    ],
)
def test_other_issuers_and_audiences_are_refused(
    sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture, claims: dict[str, object], reason: str
) -> None:
    assert_refused(raw_get(sandbox, ACCOUNTS, make_token(sandbox, rest_uri(sandbox), claims=claims)), caplog, reason)


def test_a_token_living_longer_than_two_minutes_is_refused(
    sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    now = int(time.time())
    ten_years = make_token(sandbox, rest_uri(sandbox), claims={"nbf": now, "exp": now + 10 * 365 * 86400})
    assert_refused(raw_get(sandbox, ACCOUNTS, ten_years), caplog, "longer than 120 s")
    just_over = make_token(sandbox, rest_uri(sandbox), claims={"nbf": now - 10, "exp": now + 111})
    assert_refused(raw_get(sandbox, ACCOUNTS, just_over), caplog, "longer than 120 s")
    two_minutes = make_token(sandbox, rest_uri(sandbox), claims={"nbf": now - 10, "exp": now + 110})
    assert raw_get(sandbox, ACCOUNTS, two_minutes).status_code == 200


def test_expired_and_not_yet_valid_tokens_are_refused(
    sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    now = int(time.time())
    expired = make_token(sandbox, rest_uri(sandbox), claims={"nbf": now - 121, "exp": now - 1})
    assert_refused(raw_get(sandbox, ACCOUNTS, expired), caplog, "expired")
    early = make_token(sandbox, rest_uri(sandbox), claims={"nbf": now + 30, "exp": now + 150})
    assert_refused(raw_get(sandbox, ACCOUNTS, early), caplog, "not valid before")


def test_a_client_clock_a_few_seconds_fast_is_tolerated(sandbox: RunningSandbox) -> None:
    now = int(time.time())
    fast = make_token(sandbox, rest_uri(sandbox), claims={"nbf": now + 3, "exp": now + 123})
    assert raw_get(sandbox, ACCOUNTS, fast).status_code == 200


def test_a_replayed_token_is_refused(sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture) -> None:
    token = make_token(sandbox, rest_uri(sandbox))
    assert raw_get(sandbox, ACCOUNTS, token).status_code == 200
    assert_refused(raw_get(sandbox, ACCOUNTS, token), caplog, "replayed")


def test_a_new_token_reusing_a_nonce_is_a_replay_too(sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture) -> None:
    first = make_token(sandbox, rest_uri(sandbox), header={"nonce": "once"})
    second = make_token(sandbox, rest_uri(sandbox, "/api/v3/brokerage/key_permissions"), header={"nonce": "once"})
    assert raw_get(sandbox, ACCOUNTS, first).status_code == 200
    assert_refused(raw_get(sandbox, "/api/v3/brokerage/key_permissions", second), caplog, "replayed")


def test_a_refused_token_does_not_use_up_its_nonce(sandbox: RunningSandbox) -> None:
    wrong_path = make_token(sandbox, rest_uri(sandbox, "/api/v3/brokerage/key_permissions"), header={"nonce": "n1"})
    assert raw_get(sandbox, ACCOUNTS, wrong_path).status_code == 401
    assert raw_get(sandbox, ACCOUNTS, make_token(sandbox, rest_uri(sandbox), header={"nonce": "n1"})).status_code == 200


def test_a_token_without_a_nonce_is_accepted_once(sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture) -> None:
    token = make_token(sandbox, rest_uri(sandbox), drop=("nonce",))
    assert raw_get(sandbox, ACCOUNTS, token).status_code == 200
    assert_refused(raw_get(sandbox, ACCOUNTS, token), caplog, "replayed")


def test_a_websocket_token_cannot_authenticate_a_rest_request(
    sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    assert_refused(raw_get(sandbox, ACCOUNTS, make_token(sandbox, None)), caplog, "no uri claim")


def test_a_rest_token_cannot_subscribe_to_the_feed(sandbox: RunningSandbox) -> None:
    [answer] = subscribe_user(sandbox, [make_token(sandbox, rest_uri(sandbox))])
    assert answer["type"] == "error"
    assert "uri claim" in answer["message"]


def test_websocket_tokens_follow_the_same_rules(sandbox: RunningSandbox) -> None:
    now = int(time.time())
    replayed = make_token(sandbox, None)
    answers = subscribe_user(
        sandbox,
        [
            make_token(sandbox, None, claims={"iss": "coinbase-cloud", "aud": ["public_websocket_api"]}),
            replayed,
            replayed,
            make_token(sandbox, None, claims={"nbf": now, "exp": now + 3600}),
            make_token(sandbox, None, claims={"iss": "coinbase-cloud", "aud": ["retail_rest_api_proxy"]}),
        ],
    )
    assert [a.get("channel") or a["type"] for a in answers] == [
        "subscriptions",
        "subscriptions",
        "error",
        "error",
        "error",
    ]
    assert "replayed" in answers[2]["message"]
    assert "longer than 120 s" in answers[3]["message"]
    assert "audience" in answers[4]["message"]
