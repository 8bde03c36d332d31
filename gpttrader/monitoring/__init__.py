"""Monitoring: the bot's metrics as a Prometheus registry, and the exporter that serves them."""

from gpttrader.monitoring.alerts import RULES, Alert, AlertBook, Health, Rule
from gpttrader.monitoring.exporter import MetricsServer, serve_metrics
from gpttrader.monitoring.health import Banner, banner, execution_health, freshness
from gpttrader.monitoring.metrics import BotMetrics, Snapshot

__all__ = [
    "RULES",
    "Alert",
    "AlertBook",
    "Banner",
    "BotMetrics",
    "Health",
    "MetricsServer",
    "Rule",
    "Snapshot",
    "banner",
    "execution_health",
    "freshness",
    "serve_metrics",
]
