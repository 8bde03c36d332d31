"""Error answers with Coinbase's status, body and headers, as the official SDK and the adapter receive them."""

import json
import time
from pathlib import Path

import pytest
import requests
from coinbase.rest import RESTClient

from gpttrader.brokers.coinbase import failures
from gpttrader.brokers.coinbase.transport import trust_certificate
from gpttrader.brokers.errors import AuthenticationError, NotFoundError, RateLimitedError
from gpttrader.sandbox import RunningSandbox, generate_key_file
from tests.integration.sandbox.conftest import inject, sdk_client
from tests.integration.sandbox.tokens import ACCOUNTS, raw_get

NOWHERE = "/api/v3/brokerage/no_such_thing"


def sdk_failure(call: object) -> requests.HTTPError:
    assert callable(call)
    with pytest.raises(requests.HTTPError) as raised:
        call()
    return raised.value


def test_an_unknown_key_gets_a_plain_text_401_that_the_adapter_reads_as_an_authentication_error(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    stranger = tmp_path / "stranger.json"
    generate_key_file(stranger)
    key = json.loads(stranger.read_text())
    client = RESTClient(api_key=key["name"], api_secret=key["privateKey"], base_url=sandbox.base_url)
    assert sandbox.cert_path is not None
    trust_certificate(client.session, sandbox.base_url, sandbox.cert_path)
    error = sdk_failure(client.get_accounts)
    assert error.response is not None
    assert error.response.status_code == 401
    assert error.response.headers["Content-Type"].startswith("text/plain")
    assert error.response.text.strip() == "Unauthorized"
    mapped = failures.from_exception(error, "list accounts")
    assert isinstance(mapped, AuthenticationError)
    assert str(mapped) == "HTTP 401: Unauthorized"


def test_a_missing_token_gets_the_same_plain_text_401(sandbox: RunningSandbox) -> None:
    response = raw_get(sandbox, ACCOUNTS, None)
    assert response.status_code == 401
    assert response.text.strip() == "Unauthorized"


def test_an_unknown_path_is_404_with_or_without_a_token(sandbox: RunningSandbox) -> None:
    anonymous = raw_get(sandbox, NOWHERE, None)
    assert anonymous.status_code == 404
    assert anonymous.json() == {"errors": [{"id": "not_found", "message": "Not found"}]}
    error = sdk_failure(lambda: sdk_client(sandbox).get(NOWHERE))
    assert error.response is not None
    assert error.response.status_code == 404
    mapped = failures.from_exception(error, "get nothing")
    assert isinstance(mapped, NotFoundError)
    assert "not_found: Not found" in str(mapped)


def test_a_known_path_with_an_unknown_resource_keeps_coinbase_s_json_404(sandbox: RunningSandbox) -> None:
    error = sdk_failure(lambda: sdk_client(sandbox).get_order("no-such-order"))
    assert error.response is not None
    assert error.response.status_code == 404
    assert error.response.json()["error"] == "NOT_FOUND"


def test_a_rate_limited_request_gets_coinbase_s_429(sandbox: RunningSandbox) -> None:
    inject(sandbox, kind="rate_limit", count=1, retry_after=2, path_prefix=ACCOUNTS)
    before = time.time()
    error = sdk_failure(sdk_client(sandbox).get_accounts)
    response = error.response
    assert response is not None
    assert response.status_code == 429
    assert response.json() == {
        "error": "RESOURCE_EXHAUSTED",
        "error_details": "Too many requests",
        "message": "Too many requests",
    }
    assert response.headers["x-ratelimit-limit"] == "30"
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert before + 1 < float(response.headers["x-ratelimit-reset"]) < before + 4
    assert response.headers["Retry-After"] == "2"
    mapped = failures.from_exception(error, "list accounts")
    assert isinstance(mapped, RateLimitedError)
    assert mapped.reset_at is not None
