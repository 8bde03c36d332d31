"""Map what the SDK raises or returns on failure to the broker error hierarchy."""

import json
from datetime import UTC, datetime
from typing import Any

import requests

from gpttrader.brokers.errors import (
    AuthenticationError,
    BrokerError,
    ExchangeUnavailableError,
    InsufficientFundsError,
    InvalidOrderError,
    MalformedAnswerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
)

_FUNDS = frozenset({"INSUFFICIENT_FUND", "INSUFFICIENT_FUNDS", "PREVIEW_INSUFFICIENT_FUND"})
# Coinbase's rate-limit code since April 2025; it means "slow down" whatever HTTP status carries it.
_EXHAUSTED = "RESOURCE_EXHAUSTED"


def from_exception(exc: Exception, what: str) -> BrokerError:
    """The broker error for an exception raised by the SDK during the call `what` (an HTTP status, a
    transport failure, or an answer the SDK could not read: a body that is not JSON, or JSON its typed
    response classes choke on)."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return from_response(exc.response)
    if isinstance(exc, json.JSONDecodeError):  # requests' own JSONDecodeError is one too
        return MalformedAnswerError(f"the body is not JSON ({exc.msg} at character {exc.pos})", what)
    if isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)):
        return ExchangeUnavailableError(f"Coinbase unreachable: {type(exc).__name__}")
    if isinstance(exc, (ValueError, TypeError, KeyError, AttributeError)):
        return MalformedAnswerError(f"the SDK could not read it: {type(exc).__name__}: {exc}", what)
    return BrokerError(f"unexpected failure talking to Coinbase: {type(exc).__name__}: {exc}")


def from_response(response: requests.Response) -> BrokerError:
    status = response.status_code
    code, message = _error_body(response)
    text = f"HTTP {status} {code}: {message}" if code else f"HTTP {status}: {message}"
    if status == 429 or code.upper() == _EXHAUSTED:
        return RateLimitedError(text, _reset_time(response))
    if status == 401:
        return AuthenticationError(text, code)
    if status == 403:
        return PermissionDeniedError(text, code)
    if status == 404:
        return NotFoundError(text, code)
    if status >= 500:
        return ExchangeUnavailableError(text, code)
    return InvalidOrderError(text, code or "INVALID_REQUEST")


def order_rejection(error_response: dict[str, Any]) -> InvalidOrderError:
    """The error for a create/edit answered HTTP 200 with success false."""
    reason = str(error_response.get("error") or error_response.get("preview_failure_reason") or "UNKNOWN")
    message = str(error_response.get("message") or error_response.get("error_details") or reason)
    cls = InsufficientFundsError if reason in _FUNDS else InvalidOrderError
    return cls(f"order rejected: {reason}: {message}", reason)


def _error_body(response: requests.Response) -> tuple[str, str]:
    """The code and message of an error answer, in any of Coinbase's shapes: the v3 `error`/`message` JSON,
    the host's `errors` list (a path it does not serve), or plain text (a refused token's `Unauthorized`)."""
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        return "", response.text.strip()[:200]
    if not isinstance(body, dict):
        return "", str(body)[:200]
    listed = body.get("errors")
    if "error" not in body and isinstance(listed, list) and listed and isinstance(listed[0], dict):
        body = {"error": listed[0].get("id", ""), "message": listed[0].get("message", "")}
    return str(body.get("error", "")), str(body.get("message") or body.get("error_details") or "")


def _reset_time(response: requests.Response) -> datetime | None:
    """When the limit resets, from Coinbase's x-ratelimit-reset (UNIX seconds) or Retry-After (seconds)."""
    reset = response.headers.get("x-ratelimit-reset")
    if reset and reset.replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(float(reset), UTC)
    retry_after = response.headers.get("Retry-After")
    if retry_after and retry_after.replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(datetime.now(UTC).timestamp() + float(retry_after), UTC)
    return None
