"""Where each alert the rules raise goes: the log, the event store (the panel reads the alert book's history
through the bot's state) and, when one is configured, the webhook."""

import logging

from gpttrader.domain.events import EventType
from gpttrader.monitoring import Alert, WebhookDelivery
from gpttrader.store import EventStore

log = logging.getLogger(__name__)


class AlertSink:
    def __init__(self, events: EventStore, delivery: WebhookDelivery | None, *, run_id: str | None = None) -> None:
        self._events, self._delivery, self._run_id = events, delivery, run_id

    def __call__(self, alert: Alert) -> None:
        level = logging.CRITICAL if alert.severity == "critical" else logging.WARNING
        # The alert rides on the record, for filters that print it once per change (the notebooks' sessions)
        log.log(level, "alert %s: %s (%s)", alert.rule, alert.message, alert.hint, extra={"alert": alert})
        self._events.append(
            EventType.ALERT,
            {
                "rule": alert.rule,
                "category": alert.category,
                "severity": alert.severity,
                "message": alert.message,
                "hint": alert.hint,
            },
            run_id=self._run_id,
            time=alert.at,
        )
        if self._delivery is not None:  # queued: a slow or dead webhook never holds up the cycle
            self._delivery.submit(alert)
