"""The process's resources as the bot samples them: plausible figures, the profile's SQLite files (not its
backups), the lag of the asyncio loop it runs on (none without one), and the registry's series."""

import asyncio
import os
import threading
import time
from pathlib import Path

import psutil
import pytest

from gpttrader.monitoring import BotMetrics, LoopLag, ResourceMonitor, Resources, Snapshot


def test_the_figures_are_plausible(tmp_path: Path) -> None:
    (tmp_path / "gpttrader.sqlite").write_bytes(b"x" * 4096)
    (tmp_path / "gpttrader.sqlite-wal").write_bytes(b"x" * 100)
    (tmp_path / "venue.sqlite").write_bytes(b"x" * 10)
    (tmp_path / "metrics.json").write_text("{}")
    (tmp_path / "backups").mkdir()
    (tmp_path / "backups" / "gpttrader-20261201T120000Z.sqlite").write_bytes(b"x" * 9999)
    monitor = ResourceMonitor(tmp_path)
    first = monitor.sample()
    assert first.rss_bytes > 10 * 2**20  # the interpreter alone is more than 10 MiB
    assert first.threads >= threading.active_count()
    assert first.open_files >= 3
    with (tmp_path / "metrics.json").open() as _held:
        assert monitor.sample().open_files == first.open_files + 1
    assert first.cpu_seconds > 0
    assert first.cpu_percent >= 0
    assert first.event_loop_lag_seconds is None  # not on a loop
    assert first.store_bytes == {"gpttrader.sqlite": 4096, "gpttrader.sqlite-wal": 100, "venue.sqlite": 10}
    assert first.store_total_bytes == 4206
    spin = time.process_time() + 1.1
    while time.process_time() < spin:  # a busy second: the next share is near one core
        pass
    second = monitor.sample()
    assert second.cpu_seconds >= first.cpu_seconds + 1
    assert 50 < second.cpu_percent < 400
    shown = second.as_dict()
    assert shown["store_bytes"] == 4206
    assert shown["event_loop_lag_seconds"] is None
    assert set(shown) == {
        "cpu_seconds",
        "cpu_percent",
        "rss_bytes",
        "open_files",
        "threads",
        "event_loop_lag_seconds",
        "store_bytes",
        "store_files",
    }


def test_the_lag_of_a_blocked_loop_shows_and_goes_with_the_loop() -> None:
    lag = LoopLag(interval=0.02)

    async def scenario() -> tuple[float | None, float | None, float | None]:
        lag.watch(asyncio.get_running_loop())
        await asyncio.sleep(0.1)
        calm = lag.seconds()
        time.sleep(0.3)  # a cell that blocks the kernel's loop
        during = lag.seconds()  # read from the loop itself: the beat is overdue now
        await asyncio.sleep(0.05)
        return calm, during, lag.seconds()

    calm, during, after = asyncio.run(scenario())
    assert calm is not None
    assert calm < 0.1
    assert during is not None
    assert during >= 0.25
    assert after is not None
    assert after >= 0.25
    assert lag.seconds() is None  # the loop is gone


def test_a_loop_read_from_another_thread_and_unwatched() -> None:
    lag = LoopLag(interval=0.02)
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    try:
        lag.watch(loop)  # as the bot's cycles do, but from another thread: the beat starts on the loop
        time.sleep(0.1)
        seen = lag.seconds()
        assert seen is not None
        assert seen < 0.1
        lag.unwatch()
        assert lag.seconds() is None
    finally:
        loop.call_soon_threadsafe(loop.stop)
        runner.join(5)
        loop.close()


def test_the_registry_series(tmp_path: Path) -> None:
    metrics = BotMetrics()

    def update(lag: float | None, stores: dict[str, int]) -> None:
        resources = Resources(1.5, 12.0, 50_000_000, 17, 9, lag, stores)
        metrics.update(
            Snapshot(
                "paper",
                1,
                1,
                0,
                0,
                0,
                0,
                0,
                0.01,
                1000.0,
                900.0,
                "active",
                resources=resources,
                alert_delivery={"delivered": 2.0, "failed": 1.0},
            )
        )

    def value(name: str, **labels: str) -> float | None:
        return metrics.registry.get_sample_value(name, {"profile": "paper", **labels})

    update(0.004, {"gpttrader.sqlite": 4096, "gpttrader.sqlite-wal": 10})
    assert value("gpttrader_process_cpu_seconds") == 1.5
    assert value("gpttrader_process_cpu_percent") == 12.0
    assert value("gpttrader_process_rss_bytes") == 50_000_000
    assert value("gpttrader_process_open_files") == 17
    assert value("gpttrader_process_threads") == 9
    assert value("gpttrader_event_loop_lag_seconds") == 0.004
    assert value("gpttrader_store_bytes", file="gpttrader.sqlite") == 4096
    assert value("gpttrader_alert_deliveries", outcome="failed") == 1
    update(None, {"gpttrader.sqlite": 8192})  # no loop any more; the WAL checkpointed away
    assert value("gpttrader_event_loop_lag_seconds") is None
    assert value("gpttrader_store_bytes", file="gpttrader.sqlite-wal") == 0
    assert value("gpttrader_store_bytes", file="gpttrader.sqlite") == 8192


def test_a_figure_the_platform_refuses_is_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monitor = ResourceMonitor(tmp_path)

    def refused() -> int:
        raise psutil.AccessDenied(os.getpid())

    monkeypatch.setattr(monitor._process, "num_fds", refused)
    first, second = monitor.sample(), monitor.sample()
    assert first.open_files is None
    assert second.open_files is None
    assert second.rss_bytes is not None
    assert caplog.text.count("open_files cannot be read here (AccessDenied)") == 1
    metrics = BotMetrics()
    metrics.update(Snapshot("paper", 1, 1, 0, 0, 0, 0, 0, 0.01, 1000.0, 900.0, "active", resources=second))
    assert metrics.registry.get_sample_value("gpttrader_process_open_files", {"profile": "paper"}) is None
    assert metrics.registry.get_sample_value("gpttrader_process_rss_bytes", {"profile": "paper"}) == second.rss_bytes
