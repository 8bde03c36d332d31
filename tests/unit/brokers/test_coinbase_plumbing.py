"""The adapter's plumbing in isolation: rate limiter, retry policy, failure mapping, order encoding."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests

from gpttrader.brokers.coinbase.encoding import order_configuration
from gpttrader.brokers.coinbase.failures import from_exception, from_response, order_rejection
from gpttrader.brokers.coinbase.ratelimit import TokenBucket
from gpttrader.brokers.coinbase.retry import RetryPolicy
from gpttrader.brokers.errors import (
    AuthenticationError,
    ExchangeUnavailableError,
    InsufficientFundsError,
    InvalidOrderError,
    MalformedAnswerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
)
from gpttrader.domain import OrderRequest, OrderType, Side, TimeInForce


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_token_bucket_allows_a_burst_then_paces() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(15)]
    assert waits[:10] == [0.0] * 10
    assert all(w == pytest.approx(0.1) for w in waits[10:])
    assert clock.now == pytest.approx(0.5)
    clock.now += 10
    assert bucket.acquire() == 0.0
    with pytest.raises(ValueError, match="rate_per_second must be > 0"):
        TokenBucket(0)


def response(status: int, body: object = None, headers: dict[str, str] | None = None) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = (__import__("json").dumps(body) if body is not None else "oops").encode()
    r.headers.update(headers or {})
    return r


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (429, RateLimitedError),
        (500, ExchangeUnavailableError),
        (503, ExchangeUnavailableError),
        (400, InvalidOrderError),
    ],
)
def test_http_status_maps_to_the_hierarchy(status: int, kind: type[Exception]) -> None:
    error = from_response(response(status, {"error": "X_CODE", "message": "said so"}))
    assert type(error) is kind
    assert "said so" in str(error)


def test_rate_limit_reset_time_is_read_from_headers() -> None:
    reset = datetime.now(UTC) + timedelta(seconds=2)
    error = from_response(response(429, {}, {"x-ratelimit-reset": str(reset.timestamp())}))
    assert isinstance(error, RateLimitedError)
    assert error.reset_at is not None
    assert abs((error.reset_at - reset).total_seconds()) < 0.01
    after = from_response(response(429, {}, {"Retry-After": "3"}))
    assert isinstance(after, RateLimitedError)
    assert after.reset_at is not None


def test_transport_failures_and_non_json_bodies() -> None:
    assert isinstance(from_exception(requests.ConnectionError("reset"), "list accounts"), ExchangeUnavailableError)
    assert isinstance(from_exception(requests.Timeout("slow"), "list accounts"), ExchangeUnavailableError)
    assert "oops" in str(from_response(response(502)))
    http = requests.HTTPError("500", response=response(500, {"error": "INTERNAL"}))
    assert isinstance(from_exception(http, "list accounts"), ExchangeUnavailableError)
    garbled = from_exception(requests.exceptions.JSONDecodeError("Expecting value", "<html>", 0), "create order")
    assert isinstance(garbled, MalformedAnswerError)
    assert garbled.endpoint == "create order"
    assert str(garbled).startswith("malformed answer from create order: the body is not JSON")


def test_order_rejections() -> None:
    funds = order_rejection({"error": "INSUFFICIENT_FUND", "message": "needs more"})
    assert isinstance(funds, InsufficientFundsError)
    assert funds.reason == "INSUFFICIENT_FUND"
    other = order_rejection({"error": "INVALID_SIZE_PRECISION", "message": "bad size"})
    assert type(other) is InvalidOrderError
    assert other.reason == "INVALID_SIZE_PRECISION"


class Flaky:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


def test_reads_are_retried_through_5xx() -> None:
    clock = FakeClock()
    policy = RetryPolicy(sleep=clock.sleep)
    call = Flaky([ExchangeUnavailableError("503"), ExchangeUnavailableError("503")])
    assert policy.run(call, safe_to_retry=True, what="read") == "ok"
    assert call.calls == 3
    assert policy.retries == 2
    assert len(clock.slept) == 2
    assert clock.slept[1] > clock.slept[0] * 0.9 * 0.5  # backoff grows (with jitter)


def test_unsafe_writes_are_not_retried_on_5xx_but_are_on_429() -> None:
    clock = FakeClock()
    policy = RetryPolicy(sleep=clock.sleep)
    with pytest.raises(ExchangeUnavailableError):
        policy.run(Flaky([ExchangeUnavailableError("503")]), safe_to_retry=False, what="edit")
    reset = datetime.now(UTC) + timedelta(seconds=1.5)
    call = Flaky([RateLimitedError("429", reset)])
    assert policy.run(call, safe_to_retry=False, what="edit") == "ok"
    assert clock.slept[-1] == pytest.approx(1.5, abs=0.1)


def test_retries_give_up_after_max_attempts() -> None:
    clock = FakeClock()
    policy = RetryPolicy(max_attempts=3, sleep=clock.sleep)
    call = Flaky([ExchangeUnavailableError("503")] * 5)
    with pytest.raises(ExchangeUnavailableError):
        policy.run(call, safe_to_retry=True, what="read")
    assert call.calls == 3
    far = Flaky([RateLimitedError("429", datetime.now(UTC) + timedelta(hours=1))] * 2)
    assert policy.run(far, safe_to_retry=True, what="read") == "ok"
    assert max(clock.slept) == policy.max_rate_limit_wait
    assert policy.rate_limited() == 2  # both 429s, within the last minute
    assert policy.rate_limited(seconds=0) == 0


def request(order_type: OrderType, tif: TimeInForce | None = None, **prices: Decimal) -> OrderRequest:
    end = datetime(2026, 12, 1, 12, tzinfo=UTC) if tif is TimeInForce.GTD else None
    return OrderRequest(
        "c", "BTC-USD", Side.SELL, order_type, Decimal("0.5"), time_in_force=tif, end_time=end, **prices
    )


def test_order_configuration_encoding() -> None:
    assert order_configuration(request(OrderType.MARKET)) == {"market_market_ioc": {"base_size": "0.5"}}
    assert order_configuration(request(OrderType.LIMIT, limit_price=Decimal("100.00"))) == {
        "limit_limit_gtc": {"base_size": "0.5", "limit_price": "100.00", "post_only": False}
    }
    assert order_configuration(request(OrderType.LIMIT, TimeInForce.IOC, limit_price=Decimal("1"))) == {
        "sor_limit_ioc": {"base_size": "0.5", "limit_price": "1"}
    }
    gtd = order_configuration(request(OrderType.LIMIT, TimeInForce.GTD, limit_price=Decimal("1")))
    assert gtd["limit_limit_gtd"]["end_time"] == "2026-12-01T12:00:00Z"
    stop = order_configuration(request(OrderType.STOP_LIMIT, limit_price=Decimal("90"), stop_price=Decimal("91")))
    assert stop == {
        "stop_limit_stop_limit_gtc": {
            "base_size": "0.5",
            "limit_price": "90",
            "stop_price": "91",
            "stop_direction": "STOP_DIRECTION_STOP_DOWN",
        }
    }
    bracket = order_configuration(request(OrderType.BRACKET, limit_price=Decimal("110"), stop_price=Decimal("90")))
    assert bracket == {"trigger_bracket_gtc": {"base_size": "0.5", "limit_price": "110", "stop_trigger_price": "90"}}
    with pytest.raises(ValueError, match="no STOP_LIMIT order with time in force IOC"):
        order_configuration(
            request(OrderType.STOP_LIMIT, TimeInForce.IOC, limit_price=Decimal(1), stop_price=Decimal(1))
        )
