"""The bot on the sandbox's WebSocket feed, on the real clock: a dropped socket is reconnected and
everything re-read; a frozen feed falls back to REST marks; the bot keeps running without an error."""

import threading
import time
from pathlib import Path

import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.config import load_config
from gpttrader.sandbox import RunningSandbox
from tests.integration.engine.conftest import sandbox_env
from tests.integration.sandbox.conftest import SandboxFactory, admin, admin_call


@pytest.mark.slow
def test_a_dropped_socket_and_a_frozen_feed(start_sandbox: SandboxFactory, tmp_path: Path) -> None:
    sandbox: RunningSandbox = start_sandbox(speed=1.0)
    config = load_config(
        "canary",
        overrides={"data_dir": tmp_path, "interval_seconds": 2},
        env=sandbox_env(sandbox),
    )
    with ApplicationContainer(config) as container:
        bot = container.create_bot()
        bot.bootstrap()
        runner = threading.Thread(target=bot.run, daemon=True)
        runner.start()
        time.sleep(2.5)
        assert admin_call(sandbox, "POST", "faults", {"kind": "drop_websocket"}).status_code == 200
        time.sleep(3)
        admin(sandbox, freeze=True)  # no price moves, so no ticks: marks come from REST once they age
        time.sleep(4)
        bot.stop()
        runner.join(30)
        summary = bot.shutdown()
        assert summary.errors == 0
        assert summary.cycles >= 4
        kinds = [e.type for e in container.event_store.read()]
        assert "feed.resync" in kinds
        now = bot.clock.now()
        assert bot.marks.age("BTC-USD", now) < 3 * config.interval_seconds
