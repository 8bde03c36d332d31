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
from tests.waiting import wait_for


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

        def dropped() -> bool:
            response = admin_call(sandbox, "POST", "faults", {"kind": "drop_websocket"})
            assert response.status_code == 200, response.text
            return int(response.json()["dropped"]) > 0

        wait_for(dropped, what="the bot's feed connection to drop")
        wait_for(
            lambda: any(e.type == "feed.resync" for e in container.event_store.read()),
            what="a resync after the reconnect",
        )
        admin(sandbox, freeze=True)  # no price moves, so no ticks: marks come from REST once they age
        time.sleep(4)
        bot.stop()
        runner.join(30)
        summary = bot.shutdown()
        assert summary.errors == 0
        assert summary.cycles >= 3
        now = bot.clock.now()
        assert bot.marks.age("BTC-USD", now) < 3 * config.interval_seconds
