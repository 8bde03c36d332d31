"""The adapter reads each of Coinbase's error body shapes: the v3 JSON, the host's `errors` list, plain text."""

import json

import pytest
import requests

from gpttrader.brokers.coinbase.failures import from_response
from gpttrader.brokers.errors import AuthenticationError, NotFoundError, RateLimitedError


def answer(status: int, text: str, content_type: str = "application/json") -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = text.encode()
    r.headers["Content-Type"] = content_type
    return r


def test_a_plain_text_401_is_an_authentication_failure() -> None:
    error = from_response(answer(401, "Unauthorized\n", "text/plain; charset=utf-8"))
    assert type(error) is AuthenticationError
    assert str(error) == "HTTP 401: Unauthorized"


def test_the_hosts_errors_list_is_read() -> None:
    error = from_response(answer(404, json.dumps({"errors": [{"id": "not_found", "message": "Not found"}]})))
    assert type(error) is NotFoundError
    assert str(error) == "HTTP 404 not_found: Not found"
    assert error.reason == "not_found"


@pytest.mark.parametrize("status", [400, 403, 429])
@pytest.mark.parametrize("code", ["RESOURCE_EXHAUSTED", "resource_exhausted"])
def test_resource_exhausted_is_a_rate_limit_whatever_the_status(status: int, code: str) -> None:
    body = {"error": code, "error_details": "Too many requests", "message": "Too many requests"}
    error = from_response(answer(status, json.dumps(body)))
    assert type(error) is RateLimitedError
    assert "Too many requests" in str(error)
