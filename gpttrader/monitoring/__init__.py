"""Monitoring: the bot's metrics as a Prometheus registry, and the exporter that serves them; the process's
resources; alerts delivered to a webhook."""

from gpttrader.monitoring.alerts import RULES, Alert, AlertBook, Health, Rule
from gpttrader.monitoring.delivery import RetryPolicy, WebhookDelivery, webhook_body, webhook_delivery
from gpttrader.monitoring.exporter import MetricsServer, serve_metrics
from gpttrader.monitoring.health import Banner, banner, execution_health, freshness
from gpttrader.monitoring.metrics import BotMetrics, Snapshot
from gpttrader.monitoring.resources import LoopLag, ResourceMonitor, Resources

__all__ = [
    "RULES",
    "Alert",
    "AlertBook",
    "Banner",
    "BotMetrics",
    "Health",
    "LoopLag",
    "MetricsServer",
    "ResourceMonitor",
    "Resources",
    "RetryPolicy",
    "Rule",
    "Snapshot",
    "WebhookDelivery",
    "banner",
    "execution_health",
    "freshness",
    "serve_metrics",
    "webhook_body",
    "webhook_delivery",
]
