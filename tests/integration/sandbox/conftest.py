"""A sandbox exchange on a free port, and the official SDK's RESTClient pointed at it."""

import json
from typing import Any

import pytest
import requests
from coinbase.rest import RESTClient

from gpttrader.brokers.coinbase.transport import trust_certificate
from gpttrader.sandbox import RunningSandbox
from tests.integration.conftest import SandboxFactory


@pytest.fixture
def sandbox(start_sandbox: SandboxFactory) -> RunningSandbox:
    """A sandbox whose price path stands still unless a test moves it (speed 0)."""
    return start_sandbox()


def sdk_client(sandbox: RunningSandbox, key_index: int = 0) -> RESTClient:
    key = json.loads(sandbox.settings.key_files[key_index].read_text())
    client = RESTClient(api_key=key["name"], api_secret=key["privateKey"], base_url=sandbox.base_url, timeout=10)
    assert sandbox.cert_path is not None
    trust_certificate(client.session, sandbox.base_url, sandbox.cert_path)
    return client


@pytest.fixture
def client(sandbox: RunningSandbox) -> RESTClient:
    return sdk_client(sandbox)


def admin_call(
    sandbox: RunningSandbox, method: str, what: str, body: dict[str, Any] | None = None
) -> requests.Response:
    """Call the sandbox's admin API (loopback only, no JWT)."""
    session = requests.Session()
    assert sandbox.cert_path is not None
    trust_certificate(session, sandbox.base_url, sandbox.cert_path)
    return session.request(method, f"https://{sandbox.base_url}/sandbox/admin/{what}", json=body, timeout=10)


def admin(sandbox: RunningSandbox, **body: Any) -> dict[str, Any]:
    """Move the sandbox's market clock."""
    response = admin_call(sandbox, "POST", "clock", body)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def inject(sandbox: RunningSandbox, **plan: Any) -> None:
    response = admin_call(sandbox, "POST", "faults", plan)
    assert response.status_code == 200, response.text
