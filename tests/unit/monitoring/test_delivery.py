"""Alerts posted to a webhook on a local HTTP receiver: the JSON and Slack bodies, a receiver that fails first
then succeeds, one that is down, one that refuses for good; the queue never blocks the caller, and the
URL (a secret) is never logged, shown or refused with its value repeated."""

import logging
import time
from datetime import UTC, datetime

import pytest

from gpttrader.config import load_config
from gpttrader.config.errors import ConfigError
from gpttrader.config.redaction import redact
from gpttrader.config.secrets import Secret, load_alert_webhook
from gpttrader.monitoring import Alert, AlertBook, Health, RetryPolicy, WebhookDelivery, webhook_body
from tests.webhook_receiver import TOKEN_PATH, down_url, receiver

AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ALERT = Alert("bot_stopped", "system", "critical", "the bot is not running", "start it again", AT)
FAST = RetryPolicy(attempts=3, backoff_seconds=0.05, timeout_seconds=2.0, flush_seconds=5.0)


def delivery(url: str, **kwargs: object) -> WebhookDelivery:
    return WebhookDelivery(Secret(url), profile="paper", **kwargs)  # type: ignore[arg-type]


def test_the_json_body_reaches_the_receiver() -> None:
    with receiver() as got:
        channel = delivery(got.url, policy=FAST)
        assert channel.submit(ALERT)
        channel.close()
        assert got.posted == [
            {
                "source": "gpttrader",
                "profile": "paper",
                "rule": "bot_stopped",
                "category": "system",
                "severity": "critical",
                "message": "the bot is not running",
                "hint": "start it again",
                "at": "2026-11-24T12:00:00+00:00",
            }
        ]
        assert channel.stats() == {
            "channel": "webhook",
            "format": "json",
            "delivered": 1,
            "failed": 0,
            "dropped": 0,
            "pending": 0,
        }


def test_the_slack_body_is_one_text() -> None:
    with receiver() as got:
        channel = delivery(got.url, format="slack", policy=FAST)
        channel.submit(ALERT)
        channel.close()
        assert got.posted == [
            {"text": ":rotating_light: [critical] gpttrader paper: bot_stopped: the bot is not running\nstart it again"}
        ]


def test_a_receiver_that_fails_first_gets_the_alert_on_a_retry(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with receiver(statuses=[500, 503]) as got:
        channel = delivery(got.url, policy=FAST)
        channel.submit(ALERT)
        assert got.wait_for(1)
        assert got.requests == 3
        channel.close()
    assert channel.delivered == 1
    assert channel.failed == 0
    assert "webhook attempt 1 failed (HTTP 500)" in caplog.text
    assert "delivered to the webhook on attempt 3" in caplog.text
    assert TOKEN_PATH not in caplog.text
    assert "127.0.0.1" not in caplog.text


def test_a_receiver_that_is_down_is_logged_and_does_not_block(caplog: pytest.LogCaptureFixture) -> None:
    url = down_url()
    channel = delivery(url, policy=FAST)
    started = time.monotonic()
    for _ in range(5):
        channel.submit(ALERT)
    assert time.monotonic() - started < 0.5  # queued; the retries run on the delivery's thread
    channel.close()
    assert channel.failed == 5
    assert channel.delivered == 0
    assert "alert bot_stopped not delivered to the webhook after 3 attempts: ConnectionRefusedError" in caplog.text
    assert url not in caplog.text
    assert TOKEN_PATH not in caplog.text
    assert "127.0.0.1" not in caplog.text


def test_a_refusal_is_not_retried() -> None:
    with receiver(statuses=[400]) as got:
        channel = delivery(got.url, policy=FAST)
        channel.submit(ALERT)
        channel.close()
        assert got.requests == 1
        assert channel.failed == 1


def test_a_full_queue_drops_and_close_gives_up_after_its_flush_time(caplog: pytest.LogCaptureFixture) -> None:
    slow = RetryPolicy(attempts=50, backoff_seconds=0.5, queue_size=2, flush_seconds=0.2)
    channel = delivery(down_url(), policy=slow)
    results = [channel.submit(ALERT) for _ in range(5)]
    assert results.count(False) >= 2  # one in hand, two waiting: the rest dropped
    started = time.monotonic()
    channel.close()
    assert time.monotonic() - started < 3  # the retries stop at close, they do not run their 50 attempts
    assert channel.dropped >= 4
    assert channel.pending == 0
    assert "not sent to the webhook" in caplog.text


def test_a_submit_after_close_starts_again() -> None:
    with receiver() as got:
        channel = delivery(got.url, policy=FAST)
        channel.submit(ALERT)
        channel.close()
        channel.submit(ALERT)
        channel.close()
        assert len(got.posted) == 2


def test_the_rules_cooldown_holds_before_the_webhook() -> None:
    with receiver() as got:
        channel = delivery(got.url, policy=FAST)
        book = AlertBook(sink=channel.submit)
        for minute in range(12):  # stopped for 12 minutes: raised at 0, 5 and 10
            book.evaluate(Health(running=False), AT.replace(minute=minute))
        channel.close()
        assert [p["rule"] for p in got.posted] == ["bot_stopped"] * 3


def test_the_url_comes_from_the_environment_as_a_secret(tmp_path: object) -> None:
    url = "https://hooks.example.test" + TOKEN_PATH
    config = load_config("dev", env={"GPTTRADER_ALERT_WEBHOOK_URL": url})
    assert isinstance(config.alerts.webhook_url, Secret)
    assert config.alerts.webhook_url.reveal() == url
    assert url not in repr(config)
    assert TOKEN_PATH not in str(config.to_display_dict())
    assert config.to_display_dict()["alerts"]["webhook"] == "set from GPTTRADER_ALERT_WEBHOOK_URL"
    assert load_config("dev", env={}).to_display_dict()["alerts"]["webhook"] == "not set"
    assert redact(f"posting to {url}") == "posting to **********"
    assert "**********" in redact(f"POST {TOKEN_PATH} HTTP/1.1")  # the path alone, as a library may log it
    assert repr(delivery(url)) == "WebhookDelivery(profile='paper', format='json')"
    assert load_config("dev", env={}).alerts.webhook_url is None


def test_the_url_is_refused_from_a_profile_without_repeating_it() -> None:
    url = "https://hooks.example.test/services/profile-secret-token"
    with pytest.raises(ConfigError) as refused:
        load_config("dev", overrides={"alerts": {"webhook_url": url}}, env={})
    assert "GPTTRADER_ALERT_WEBHOOK_URL only" in str(refused.value)
    assert url not in str(refused.value)
    with pytest.raises(ConfigError, match="http:// or https://") as bad:
        load_alert_webhook({"GPTTRADER_ALERT_WEBHOOK_URL": "file:///etc/passwd-and-more"})
    assert "passwd" not in str(bad.value)
    assert (
        load_config("dev", overrides={"alerts": {"webhook_format": "slack"}}, env={}).alerts.webhook_format == "slack"
    )


def test_the_body_is_redacted() -> None:
    token = Secret("leaked-token-1234567890")
    leaky = Alert("x", "system", "warning", f"answer held {token.reveal()}", "hint", AT)
    assert token.reveal() not in str(webhook_body(leaky, profile="dev", format="json"))
    assert token.reveal() not in str(webhook_body(leaky, profile="dev", format="slack"))
