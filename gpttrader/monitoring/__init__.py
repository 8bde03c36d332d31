"""Monitoring: the bot's metrics as a Prometheus registry, and the exporter that serves them."""

from gpttrader.monitoring.exporter import MetricsServer, serve_metrics
from gpttrader.monitoring.metrics import BotMetrics, Snapshot

__all__ = ["BotMetrics", "MetricsServer", "Snapshot", "serve_metrics"]
