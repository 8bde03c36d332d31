"""The Prometheus exporter scraped during a paper session on the sandbox: the series exist and move."""

from datetime import UTC, datetime
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.config import load_config
from gpttrader.monitoring import BotMetrics, serve_metrics
from tests.integration.engine.conftest import sandbox_env
from tests.integration.sandbox.conftest import SandboxFactory

START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_the_metrics_move_during_a_session(start_sandbox: SandboxFactory, tmp_path: Path) -> None:
    sandbox = start_sandbox(virtual_start=START.timestamp(), speed=1.0)
    config = load_config(
        "paper",
        overrides={
            "data_dir": tmp_path,
            "symbols": ["BTC-USD", "ETH-USD"],
            "strategy": {"name": "ma_cross", "params": {"fast": 2, "slow": 4}},
            "coinbase": {"public_requests_per_second": 1000, "websocket": False},
            "guards": {"hourly_loss": {"limit": 1}, "daily_loss": {"limit": 1}},  # let it trade on
        },
        env=sandbox_env(sandbox, key=False),
    )
    monitor = BotMetrics()
    server = serve_metrics(monitor.registry, 0)
    try:
        with ApplicationContainer(config, clock=SandboxClock(sandbox)) as container:
            bot = container.create_bot(monitor=monitor)
            bot.bootstrap()
            bot.run(max_cycles=5)
            first = scrape(server.port)
            bot.run(max_cycles=30)
            second = scrape(server.port)
            state = str(container.risk_manager.state)
            bot.shutdown()
    finally:
        server.stop()
    paper = (("profile", "paper"),)
    assert first[("gpttrader_cycles_total", paper)] == 5
    assert second[("gpttrader_cycles_total", paper)] == 30
    assert second[("gpttrader_fills_total", paper)] > first[("gpttrader_fills_total", paper)] >= 0
    flags = {
        name: second[("gpttrader_trading_state", (("profile", "paper"), ("state", name)))]
        for name in ("active", "reduce_only", "halted")
    }
    assert flags == {name: float(name == state) for name in flags}
    assert second[("gpttrader_equity", paper)] > 0
    assert ("gpttrader_mark_age_seconds", (("product", "BTC-USD"), ("profile", "paper"))) in second
    assert second[("gpttrader_execution", (("figure", "success_rate"), ("profile", "paper")))] <= 1
