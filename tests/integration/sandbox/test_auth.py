"""JWT authentication as Coinbase does it: every private request is signed for its method, host and path."""

import json
import logging
import time
from pathlib import Path

import jwt
import pytest
import requests
from coinbase import jwt_generator
from coinbase.rest import RESTClient
from cryptography.hazmat.primitives import serialization

from gpttrader.brokers.coinbase.transport import trust_certificate
from gpttrader.sandbox import RunningSandbox, generate_key_file
from tests.integration.sandbox.conftest import SandboxFactory, sdk_client
from tests.integration.sandbox.tokens import ACCOUNTS, raw_get


def key_of(sandbox: RunningSandbox) -> dict[str, str]:
    key: dict[str, str] = json.loads(sandbox.settings.key_files[0].read_text())
    return key


def token_for(sandbox: RunningSandbox, method: str, path: str) -> str:
    key = key_of(sandbox)
    return jwt_generator.build_rest_jwt(f"{method} {sandbox.base_url}{path}", key["name"], key["privateKey"])


@pytest.fixture(autouse=True)
def sandbox_reasons(caplog: pytest.LogCaptureFixture) -> None:
    """The sandbox logs why it refused a token (at INFO): the answer itself says nothing."""
    caplog.set_level(logging.INFO, logger="gpttrader.sandbox.server")


def assert_refused(caplog: pytest.LogCaptureFixture, response: requests.Response, detail: str) -> None:
    """Refused as Coinbase refuses: a bare plain-text 401 telling nothing; the sandbox logs why."""
    assert response.status_code == 401
    assert response.text == "Unauthorized"
    assert any(detail in r.getMessage() for r in caplog.records if r.name == "gpttrader.sandbox.server"), detail


def test_a_valid_token_is_accepted(sandbox: RunningSandbox) -> None:
    assert raw_get(sandbox, ACCOUNTS, token_for(sandbox, "GET", ACCOUNTS)).status_code == 200


def test_missing_token(sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture) -> None:
    assert_refused(caplog, raw_get(sandbox, ACCOUNTS, None), "missing bearer")  # the rest may be redacted


def test_garbage_token(sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture) -> None:
    assert_refused(caplog, raw_get(sandbox, ACCOUNTS, "not-a-jwt"), "malformed token")


def test_token_for_another_path(sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture) -> None:
    token = token_for(sandbox, "GET", "/api/v3/brokerage/orders/historical/batch")
    assert_refused(caplog, raw_get(sandbox, ACCOUNTS, token), "does not match the request")


def test_token_for_another_method(sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture) -> None:
    assert_refused(
        caplog, raw_get(sandbox, ACCOUNTS, token_for(sandbox, "POST", ACCOUNTS)), "does not match the request"
    )


def test_token_for_another_host(sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture) -> None:
    key = key_of(sandbox)
    token = jwt_generator.build_rest_jwt(f"GET api.coinbase.com{ACCOUNTS}", key["name"], key["privateKey"])
    assert_refused(caplog, raw_get(sandbox, ACCOUNTS, token), "does not match the request")


def test_expired_token(sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture) -> None:
    key = key_of(sandbox)
    private = serialization.load_pem_private_key(key["privateKey"].encode(), password=None)
    past = int(time.time()) - 600
    claims = {
        "sub": key["name"],
        "iss": "cdp",
        "nbf": past,
        "exp": past + 120,
        "uri": f"GET {sandbox.base_url}{ACCOUNTS}",
    }
    token = jwt.encode(claims, private, algorithm="ES256", headers={"kid": key["name"], "nonce": "n"})  # type: ignore[arg-type]
    assert_refused(caplog, raw_get(sandbox, ACCOUNTS, token), "token expired")


def test_token_signed_by_an_untrusted_key_with_a_trusted_name(
    sandbox: RunningSandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    other = tmp_path / "other.json"
    generate_key_file(other)
    forged = json.loads(other.read_text())
    token = jwt_generator.build_rest_jwt(
        f"GET {sandbox.base_url}{ACCOUNTS}", key_of(sandbox)["name"], forged["privateKey"]
    )
    assert_refused(caplog, raw_get(sandbox, ACCOUNTS, token), "invalid token")


def test_unknown_key(sandbox: RunningSandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    other = tmp_path / "other.json"
    generate_key_file(other)
    forged = json.loads(other.read_text())
    token = jwt_generator.build_rest_jwt(f"GET {sandbox.base_url}{ACCOUNTS}", forged["name"], forged["privateKey"])
    assert_refused(caplog, raw_get(sandbox, ACCOUNTS, token), "unknown key id")


def test_sdk_raises_on_401(sandbox: RunningSandbox, tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    generate_key_file(other)
    forged = json.loads(other.read_text())
    client = RESTClient(api_key=forged["name"], api_secret=forged["privateKey"], base_url=sandbox.base_url)
    assert sandbox.cert_path is not None
    trust_certificate(client.session, sandbox.base_url, sandbox.cert_path)
    with pytest.raises(requests.HTTPError, match="401"):
        client.get_accounts()


def test_eddsa_keys_work_through_the_sdk(start_sandbox: SandboxFactory) -> None:
    sandbox = start_sandbox(algorithm="EdDSA")
    permissions = sdk_client(sandbox).get_api_key_permissions()
    assert permissions.can_view is True
    assert permissions.can_trade is True


def test_public_endpoints_need_no_token(sandbox: RunningSandbox) -> None:
    client = RESTClient(base_url=sandbox.base_url)
    assert sandbox.cert_path is not None
    trust_certificate(client.session, sandbox.base_url, sandbox.cert_path)
    assert abs(int(client.get_unix_time().epoch_seconds) - time.time()) < 5
    assert client.get_public_product("BTC-USD").product_id == "BTC-USD"
    assert raw_get(sandbox, "/api/v3/brokerage/products", None).status_code == 401
