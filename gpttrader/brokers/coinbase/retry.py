"""Retries with backoff, only where a retry cannot duplicate an effect.

Reads are always safe to retry. A create is safe because Coinbase answers a repeated client order id
with the order it already made; a cancel is safe because cancelling twice changes nothing. Other writes
(an edit) are not retried after a failure that may have been processed. A 429 means the request was not
processed at all, so it is waited out and retried whatever its kind.
"""

import logging
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from gpttrader.brokers.coinbase import failures
from gpttrader.brokers.coinbase.ratelimit import TokenBucket
from gpttrader.brokers.errors import (
    BrokerError,
    ExchangeUnavailableError,
    MalformedAnswerError,
    NotFoundError,
    RateLimitedError,
)

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass
class RetryPolicy:
    max_attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 5.0
    max_rate_limit_wait: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    retries: int = field(default=0, init=False)
    _limited: deque[float] = field(default_factory=lambda: deque(maxlen=1000), init=False)

    def rate_limited(self, seconds: float = 60.0) -> int:
        """429s answered within the last `seconds` (the rate_limit_high alert reads the last minute)."""
        since = time.monotonic() - seconds
        return sum(at >= since for at in self._limited)

    def run(self, call: Callable[[], T], *, safe_to_retry: bool, what: str) -> T:
        attempt = 0
        unclear: BrokerError | None = None  # an earlier attempt that may have been processed
        while True:
            attempt += 1
            try:
                return call()
            except RateLimitedError as exc:
                self._limited.append(time.monotonic())
                if attempt >= self.max_attempts:
                    if unclear is None:
                        raise
                    raise _unclear(unclear, exc, what) from exc
                wait = self._rate_limit_wait(exc, attempt)
                log.warning("%s rate limited; waiting %.2fs (attempt %d)", what, wait, attempt)
            except (ExchangeUnavailableError, MalformedAnswerError) as exc:
                if not safe_to_retry or attempt >= self.max_attempts or isinstance(exc, MalformedAnswerError):
                    raise
                unclear = exc
                wait = self._backoff(attempt)
                log.warning("%s failed (exchange unavailable); retrying in %.2fs (attempt %d)", what, wait, attempt)
            except BrokerError as exc:
                if unclear is None or isinstance(exc, NotFoundError):
                    raise
                raise _unclear(unclear, exc, what) from exc
            self.retries += 1
            self.sleep(wait)

    def _backoff(self, attempt: int) -> float:
        delay: float = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return delay * (0.5 + random.random() / 2)  # jitter, so that many clients do not retry in step

    def _rate_limit_wait(self, exc: RateLimitedError, attempt: int) -> float:
        if exc.reset_at is not None:
            wait = (exc.reset_at - datetime.now(UTC)).total_seconds()
            return min(max(wait, 0.05), self.max_rate_limit_wait)
        return self._backoff(attempt)


def _unclear(unclear: BrokerError, final: BrokerError, what: str) -> BrokerError:
    """A definite "no" (a 429, a rejection) after an attempt whose answer was lost does not say that nothing
    happened: the lost attempt may have been processed, so the outcome is still unclear."""
    return ExchangeUnavailableError(f"{what}: an attempt's answer was lost ({unclear}), then: {final}", final.reason)


def guarded(
    call: Callable[[], T], *, bucket: TokenBucket, retry: RetryPolicy, what: str, safe_to_retry: bool = True
) -> T:
    """One SDK call through the rate limiter and the retry policy, any failure as a BrokerError."""

    def attempt() -> T:
        bucket.acquire()
        try:
            return call()
        except BrokerError:
            raise
        except Exception as exc:  # the SDK raises requests' errors and bare Exceptions
            raise failures.from_exception(exc, what) from exc

    return retry.run(attempt, safe_to_retry=safe_to_retry, what=what)
