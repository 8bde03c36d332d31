"""Alerts delivered to a webhook: a JSON POST of the alert, or a Slack-compatible `{"text": ...}` body.

The URL comes from the environment only (GPTTRADER_ALERT_WEBHOOK_URL, a `Secret`): it is never logged,
stored or written to `metrics.json`; a failure is logged with its reason (an HTTP status, a refused
connection), never the address. Alerts are sent from a background thread through a bounded queue, so a
slow or dead receiver never holds up a cycle: each alert is tried a few times with exponential backoff,
then given up (logged); a full queue drops the newest alert (logged). The rules' cooldowns are applied
before this (`AlertBook`), so a condition that lasts is sent once per cooldown.
"""

import contextlib
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Literal

from gpttrader.config.models import AlertsConfig
from gpttrader.config.redaction import redact
from gpttrader.config.secrets import Secret
from gpttrader.monitoring.alerts import Alert

log = logging.getLogger(__name__)

WebhookFormat = Literal["json", "slack"]
_STOP = object()


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # in all, the first included
    backoff_seconds: float = 0.5  # before the second attempt; doubled before each further one
    max_backoff_seconds: float = 8.0
    timeout_seconds: float = 5.0  # per request
    queue_size: int = 100
    flush_seconds: float = 5.0  # how long `close` waits for the queue to drain


def webhook_body(alert: Alert, *, profile: str, format: WebhookFormat) -> dict[str, Any]:
    """What is posted for `alert`: its fields, or one line of text for Slack (and what reads Slack's format)."""
    if format == "slack":
        icon = ":rotating_light:" if alert.severity == "critical" else ":warning:"
        return {
            "text": redact(
                f"{icon} [{alert.severity}] gpttrader {profile}: {alert.rule}: {alert.message}\n{alert.hint}"
            )
        }
    return {
        "source": "gpttrader",
        "profile": profile,
        "rule": alert.rule,
        "category": alert.category,
        "severity": alert.severity,
        "message": redact(alert.message),
        "hint": redact(alert.hint),
        "at": alert.at.isoformat(),
    }


class DeliveryError(Exception):
    """Why one attempt failed, in words that hold no part of the URL."""

    def __init__(self, reason: str, *, retry: bool) -> None:
        super().__init__(reason)
        self.retry = retry


def _post(url: Secret, body: dict[str, Any], timeout: float) -> None:
    request = urllib.request.Request(
        url.reveal(),
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": "gpttrader-alerts"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            answer.read()
    except urllib.error.HTTPError as exc:
        # A 4xx other than a timeout or a rate limit will not get better by asking again.
        raise DeliveryError(f"HTTP {exc.code}", retry=exc.code in (408, 429) or exc.code >= 500) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        text = reason.strerror if isinstance(reason, OSError) and reason.strerror else str(reason)
        raise DeliveryError(f"{type(reason).__name__}: {text}", retry=True) from None
    except (TimeoutError, OSError) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc.strerror or 'timed out'}", retry=True) from None


class WebhookDelivery:
    """Sends alerts to one webhook from a daemon thread; `submit` never blocks, `close` flushes a while."""

    def __init__(
        self,
        url: Secret,
        *,
        profile: str,
        format: WebhookFormat = "json",
        policy: RetryPolicy | None = None,
    ) -> None:
        self._url, self.profile, self.format = url, profile, format
        self.policy = policy or RetryPolicy()
        self.delivered = self.failed = self.dropped = 0
        self._queue: queue.Queue[object] = queue.Queue(maxsize=self.policy.queue_size)
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"WebhookDelivery(profile={self.profile!r}, format={self.format!r})"

    def submit(self, alert: Alert) -> bool:
        """Queue `alert`; False when the queue is full (the alert is dropped, and that is logged)."""
        self._ensure_thread()
        try:
            self._queue.put_nowait(alert)
        except queue.Full:
            self.dropped += 1
            log.warning("alert %s not sent to the webhook: %d alerts are waiting already", alert.rule, self.pending)
            return False
        return True

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def stats(self) -> dict[str, Any]:
        return {
            "channel": "webhook",
            "format": self.format,
            "delivered": self.delivered,
            "failed": self.failed,
            "dropped": self.dropped,
            "pending": self.pending,
        }

    def close(self, timeout: float | None = None) -> None:
        """Wait up to `timeout` (the policy's flush time) for the queued alerts to go, then stop the thread;
        what is left then is given up (logged). A later `submit` starts a new thread."""
        with self._start_lock:
            thread, closing = self._thread, self._closing
            self._thread = None
        if thread is None or not thread.is_alive():
            return
        deadline = time.monotonic() + (self.policy.flush_seconds if timeout is None else timeout)
        with contextlib.suppress(queue.Full):
            self._queue.put(_STOP, timeout=max(deadline - time.monotonic(), 0.01))
        thread.join(max(deadline - time.monotonic(), 0.0))
        if thread.is_alive():
            closing.set()  # the retries stop waiting; the alert in hand and the queued ones are given up
            thread.join(self.policy.timeout_seconds + 1)
        left = 0
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            left += item is not _STOP
        if left:
            self.dropped += left
            log.warning("%d alerts not sent to the webhook before the bot stopped", left)

    def _ensure_thread(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._closing = threading.Event()
                self._thread = threading.Thread(
                    target=self._work, args=(self._closing,), name=f"gpttrader-alerts-{self.profile}", daemon=True
                )
                self._thread.start()

    def _work(self, closing: threading.Event) -> None:
        while not closing.is_set():
            try:
                item = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if item is _STOP:
                return
            assert isinstance(item, Alert)
            try:
                self._send(item, closing)
            except Exception:  # a bug here must not end the thread: the next alert is still tried
                self.failed += 1
                log.exception("alert %s: the webhook delivery failed unexpectedly", item.rule)

    def _send(self, alert: Alert, closing: threading.Event) -> None:
        body = webhook_body(alert, profile=self.profile, format=self.format)
        policy, reason = self.policy, ""
        for attempt in range(1, policy.attempts + 1):
            try:
                _post(self._url, body, policy.timeout_seconds)
            except DeliveryError as exc:
                reason = redact(str(exc))
                if not exc.retry or attempt == policy.attempts:
                    break
                wait = min(policy.backoff_seconds * 2 ** (attempt - 1), policy.max_backoff_seconds)
                log.info("alert %s: webhook attempt %d failed (%s); again in %.1f s", alert.rule, attempt, reason, wait)
                if closing.wait(wait):
                    break
            else:
                self.delivered += 1
                if attempt > 1:
                    log.info("alert %s delivered to the webhook on attempt %d", alert.rule, attempt)
                return
        self.failed += 1
        log.warning("alert %s not delivered to the webhook after %d attempts: %s", alert.rule, attempt, reason)


def webhook_delivery(settings: AlertsConfig, *, profile: str) -> WebhookDelivery | None:
    """The webhook channel of a bot (`alerts` of its configuration), or None when no URL is configured."""
    url = settings.webhook_url
    return None if url is None else WebhookDelivery(url, profile=profile, format=settings.webhook_format)
