"""The bot as a task on an asyncio loop (how the control panel runs it in a kernel): cycles on one worker
thread, the loop free between and during them; pausing stops acting on decisions but not watching."""

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gpttrader.app import ApplicationContainer
from gpttrader.config import load_config
from gpttrader.domain.events import EventType
from gpttrader.engine.clock import FastClock, PacedClock
from tests.integration.engine.dev_sessions import START, container
from tests.integration.engine.strategies import BuyBtcEveryBar


def test_cycles_run_on_the_worker_and_leave_the_loop_free(tmp_path: Path) -> None:
    config = load_config("dev", overrides={"data_dir": tmp_path, "symbols": ["BTC-USD"]}, env={})
    threads: set[str] = set()

    async def scenario() -> tuple[list[int], int]:
        ticks = 0
        seen: list[int] = []

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        with (
            ApplicationContainer(config, clock=PacedClock(FastClock(START), 0.05)) as app,
            ThreadPoolExecutor(1, thread_name_prefix="bot-worker") as worker,
        ):
            bot = app.create_bot(BuyBtcEveryBar())
            bot.bootstrap()
            original = bot.cycle

            def cycle() -> None:
                threads.add(threading.current_thread().name)
                original()

            bot.cycle = cycle  # type: ignore[method-assign]
            beat = asyncio.get_running_loop().create_task(ticker())
            async for count in bot.cycles(worker, max_cycles=6):
                seen.append(count)
            beat.cancel()
            bot.shutdown()
        return seen, ticks

    seen, ticks = asyncio.run(scenario())
    assert seen == [1, 2, 3, 4, 5, 6]
    assert threads == {"bot-worker_0"}
    assert ticks >= 20  # five paced waits of 50 ms: the loop went on beating all along


def test_stop_ends_the_task_during_its_wait(tmp_path: Path) -> None:
    config = load_config("dev", overrides={"data_dir": tmp_path, "symbols": ["BTC-USD"]}, env={})

    async def scenario() -> float:
        with (
            ApplicationContainer(config, clock=PacedClock(FastClock(START), 30.0)) as app,
            ThreadPoolExecutor(1) as worker,
        ):
            bot = app.create_bot()
            bot.bootstrap()
            started = time.monotonic()

            async def run() -> None:
                async for _ in bot.cycles(worker):
                    pass

            task = asyncio.get_running_loop().create_task(run())
            await asyncio.sleep(0.2)
            bot.stop()
            await asyncio.wait_for(task, 5)
            bot.shutdown()
            return time.monotonic() - started

    assert asyncio.run(scenario()) < 5  # not the 30 s pace


def test_a_paused_bot_watches_without_acting(tmp_path: Path) -> None:
    with container(tmp_path) as app:
        bot = app.create_bot(BuyBtcEveryBar())
        bot.bootstrap()
        bot.pause(operator="ops")
        bot.run(max_cycles=5)
        assert bot.metrics.bars > 0
        assert bot.metrics.orders == 0
        assert bot.metrics.cycles == 5
        bot.resume(operator="ops")
        bot.run(max_cycles=8)
        assert bot.metrics.orders > 0
        kinds = [
            (e.type, e.payload.get("operator"))
            for e in app.event_store.read(types=[EventType.BOT_PAUSED, EventType.BOT_RESUMED])
        ]
        assert kinds == [("bot.paused", "ops"), ("bot.resumed", "ops")]


def test_the_paced_clock_waits_then_jumps() -> None:
    clock = PacedClock(FastClock(START), 0.05)
    stop = threading.Event()
    started = time.monotonic()
    assert clock.sleep_until(START.replace(minute=5), stop)
    assert time.monotonic() - started >= 0.05
    assert clock.now() == START.replace(minute=5)
    stop.set()
    assert not clock.sleep_until(START.replace(minute=9), stop)
    assert clock.now() == START.replace(minute=5)
