"""A dev bot's resource telemetry and alert webhook: the process's figures and the store's size in the
registry and `metrics.json`, the loop's lag when it runs as a task on one; an alert posted to a local
receiver, a receiver that is down logged and run past; the webhook's URL in no log, event or metrics file."""

import asyncio
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.config import load_config
from gpttrader.domain.events import EventType
from gpttrader.engine.clock import FastClock, PacedClock
from gpttrader.monitoring import BotMetrics
from tests.integration.engine.dev_sessions import START
from tests.integration.engine.strategies import BuyOnce
from tests.webhook_receiver import TOKEN_PATH, down_url, receiver


def dev(data: Path, env: dict[str, str], clock: Any = None) -> ApplicationContainer:
    config = load_config("dev", overrides={"data_dir": data, "symbols": ["BTC-USD", "ETH-USD"]}, env=env)
    return ApplicationContainer(config, clock=clock or FastClock(START))


def value(monitor: BotMetrics, name: str, **labels: str) -> float | None:
    return monitor.registry.get_sample_value(name, {"profile": "dev", **labels})


def stored_text(app: ApplicationContainer) -> str:
    return "\n".join(json.dumps(e.payload) for e in app.event_store.read())


def test_a_halted_bot_posts_its_alert_and_reports_its_resources(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monitor = BotMetrics()
    with receiver() as got, dev(tmp_path, {"GPTTRADER_ALERT_WEBHOOK_URL": got.url}) as app:
        bot = app.create_bot(BuyOnce(), monitor=monitor)
        bot.bootstrap()
        bot.run(max_cycles=3)
        bot.kill(operator="ops", reason="drill")
        bot.run(max_cycles=6)
        posted = got.wait_for(1)
        bot.shutdown()
        events = stored_text(app)
        metrics_text = bot.metrics_path.read_text()
    assert [(p["rule"], p["severity"], p["profile"]) for p in posted] == [("circuit_breaker_open", "critical", "dev")]
    assert "gpttrader risk set active" in posted[0]["hint"]
    metrics = json.loads(metrics_text)
    assert metrics["alert_delivery"] == {
        "channel": "webhook",
        "format": "json",
        "delivered": 1,
        "failed": 0,
        "dropped": 0,
        "pending": 0,
    }
    resources = metrics["resources"]
    assert resources["rss_bytes"] > 10 * 2**20
    assert resources["threads"] >= 2
    assert resources["open_files"] >= 3
    assert resources["cpu_seconds"] > 0
    assert resources["cpu_percent"] >= 0
    assert resources["event_loop_lag_seconds"] is None  # run() on this thread: no loop
    assert resources["store_files"]["gpttrader.sqlite"] > 0
    assert resources["store_bytes"] == sum(resources["store_files"].values())
    stores = {f.name for f in (tmp_path / "state" / "dev").glob("*.sqlite")}  # the WAL files went at the close
    assert stores
    assert {name.removesuffix("-wal").removesuffix("-shm") for name in resources["store_files"]} == stores
    assert value(monitor, "gpttrader_process_rss_bytes") == pytest.approx(resources["rss_bytes"], rel=0.5)
    assert value(monitor, "gpttrader_process_threads") >= 2  # type: ignore[operator]
    assert value(monitor, "gpttrader_process_open_files") >= 3  # type: ignore[operator]
    assert value(monitor, "gpttrader_store_bytes", file="gpttrader.sqlite") > 0  # type: ignore[operator]
    assert value(monitor, "gpttrader_event_loop_lag_seconds") is None
    assert value(monitor, "gpttrader_alert_deliveries", outcome="delivered") == 1
    for text in (caplog.text, events, metrics_text):
        assert TOKEN_PATH not in text
        assert got.url not in text


def test_a_webhook_that_is_down_is_logged_and_the_bot_goes_on(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = down_url()
    with dev(tmp_path, {"GPTTRADER_ALERT_WEBHOOK_URL": url}) as app:
        bot = app.create_bot(BuyOnce())
        bot.bootstrap()
        bot.kill(operator="ops", reason="drill")
        started = time.monotonic()
        bot.run(max_cycles=20)
        ran = time.monotonic() - started
        assert bot.metrics.cycles == 20
        assert bot.metrics.errors == 0
        summary = bot.shutdown()  # waits for the retries (a few seconds at most), then gives up
        events = stored_text(app)
        raised = len(list(app.event_store.read(types=[EventType.ALERT])))  # once per cooldown, on the simulated clock
        metrics = bot.metrics_path.read_text()
    assert summary.cycles == 20
    assert ran < 5  # the retries ran on the delivery's thread, not in the cycles
    delivery = json.loads(metrics)["alert_delivery"]
    assert raised >= 1
    assert delivery["delivered"] == 0
    assert delivery["failed"] + delivery["dropped"] == raised
    assert "alert circuit_breaker_open not delivered to the webhook after 4 attempts" in caplog.text
    assert "ConnectionRefusedError" in caplog.text
    for text in (caplog.text, events, metrics):
        assert TOKEN_PATH not in text
        assert url not in text


def test_the_lag_of_the_loop_the_bot_runs_on(tmp_path: Path) -> None:
    monitor = BotMetrics()

    async def scenario() -> list[Any]:
        seen = []
        with dev(tmp_path, {}, PacedClock(FastClock(START), 0.05)) as app, ThreadPoolExecutor(1) as worker:
            bot = app.create_bot(monitor=monitor)
            bot.bootstrap()
            async for count in bot.cycles(worker, max_cycles=8):
                if count == 4:
                    time.sleep(0.4)  # a notebook cell that holds the kernel's loop
                seen.append(
                    (
                        json.loads(bot.metrics_path.read_text())["resources"]["event_loop_lag_seconds"],
                        value(monitor, "gpttrader_event_loop_lag_seconds"),
                    )
                )
            bot.shutdown()
            seen.append(json.loads(bot.metrics_path.read_text())["resources"]["event_loop_lag_seconds"])
        return seen

    seen = asyncio.run(scenario())
    assert all(lag is not None and shown is not None and lag < 5 for lag, shown in seen[:-1])
    assert seen[0][0] < 0.3
    assert max(lag for lag, _ in seen[4:-1]) >= 0.15  # the blocked cell (0.4 s) shows in the cycles after it
    assert seen[-1] is None  # stopped: no loop any more
