"""What the bot's process costs: CPU, resident memory, open files, threads, the lag of the asyncio loop it
runs on (a Jupyter kernel's, when the bot is a task there) and the size of its profile's stores.

The engine samples a `ResourceMonitor` each cycle; the figures reach `metrics.json` and the Prometheus
registry (`gpttrader.monitoring.metrics`). The process figures come from psutil.
"""

import asyncio
import contextlib
import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psutil

log = logging.getLogger(__name__)
_N = TypeVar("_N", int, float)

# The loop's heartbeat: how often it is due, and how many beats the reported lag looks back over (10 s).
HEARTBEAT_SECONDS = 0.25
LAG_WINDOW_BEATS = 40
CPU_WINDOW_SECONDS = 1.0  # the CPU share is measured over at least this long (two samples a cycle are common)


@dataclass(frozen=True)
class Resources:
    # Each process figure is None when the platform would not give it (logged once), never a made-up 0.
    cpu_seconds: float | None  # user + system CPU time of the process since it started
    cpu_percent: float | None  # of one core, since the previous measurement (100 = one core busy)
    rss_bytes: int | None
    open_files: int | None  # file descriptors (handles on Windows): files, sockets, pipes
    threads: int | None
    event_loop_lag_seconds: float | None  # None: the bot does not run on an asyncio loop
    store_bytes: Mapping[str, int] = field(default_factory=dict)  # by file name, the profile's SQLite files

    @property
    def store_total_bytes(self) -> int:
        return sum(self.store_bytes.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "cpu_seconds": None if self.cpu_seconds is None else round(self.cpu_seconds, 3),
            "cpu_percent": None if self.cpu_percent is None else round(self.cpu_percent, 1),
            "rss_bytes": self.rss_bytes,
            "open_files": self.open_files,
            "threads": self.threads,
            "event_loop_lag_seconds": None
            if self.event_loop_lag_seconds is None
            else round(self.event_loop_lag_seconds, 4),
            "store_bytes": self.store_total_bytes,
            "store_files": dict(self.store_bytes),
        }


class LoopLag:
    """The lag of one asyncio loop: a callback due every `interval` seconds on it notes how late it ran.

    `watch` may be called from any thread (the bot's `cycles` calls it from the loop); the lag reported is
    the worst delay of the last `window` beats, or the delay of a beat overdue now if that is worse (a loop
    blocked at this moment). No loop watched, or one stopped or closed: None.
    """

    def __init__(self, interval: float = HEARTBEAT_SECONDS, window: int = LAG_WINDOW_BEATS) -> None:
        self.interval = interval
        self._lags: deque[float] = deque(maxlen=window)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0  # time.monotonic() of the next beat

    def watch(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            if self._loop is loop and not loop.is_closed():
                return
            self._lags.clear()
            self._loop = loop
            self._due = time.monotonic()
        loop.call_soon_threadsafe(self._beat, loop)

    def unwatch(self) -> None:
        with self._lock:
            loop, handle, self._loop, self._handle = self._loop, self._handle, None, None
        if handle is not None and loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closed in between
                loop.call_soon_threadsafe(handle.cancel)

    def _beat(self, loop: asyncio.AbstractEventLoop) -> None:
        now = time.monotonic()
        with self._lock:
            if self._loop is not loop:
                return  # unwatched, or another loop watched since
            self._lags.append(max(now - self._due, 0.0))
            self._due = now + self.interval
            self._handle = loop.call_later(self.interval, self._beat, loop)

    def seconds(self) -> float | None:
        with self._lock:
            loop = self._loop
            if loop is None or loop.is_closed() or not loop.is_running():
                return None
            overdue = max(time.monotonic() - self._due, 0.0)
            return max([overdue, *self._lags])


class ResourceMonitor:
    """Samples this process and the size of the stores in `store_dir` (`*.sqlite` with their WAL files)."""

    def __init__(self, store_dir: Path, *, loop_lag: LoopLag | None = None) -> None:
        self.store_dir = store_dir
        self.loop_lag = loop_lag or LoopLag()
        self._process = psutil.Process(os.getpid())
        self._unreadable: set[str] = set()
        started = self._figure("create_time", lambda: float(self._process.create_time())) or time.time()
        # The first share is over the process's life so far; later ones over the time since the last.
        self._mark = (time.time() - started, 0.0)
        self._percent = 0.0
        self._clock = time.monotonic()
        self._lock = threading.Lock()

    def sample(self) -> Resources:
        """The figures now; never raises (a figure that cannot be read is None)."""
        process = self._process
        with process.oneshot():
            cpu = self._figure("cpu_seconds", lambda: float(sum(process.cpu_times()[:2])))
            rss = self._figure("rss_bytes", lambda: int(process.memory_info().rss))
            threads = self._figure("threads", lambda: int(process.num_threads()))
            files = self._figure("open_files", self._open_files)
        return Resources(
            cpu_seconds=cpu,
            cpu_percent=None if cpu is None else self._cpu_percent(cpu),
            rss_bytes=rss,
            open_files=files,
            threads=threads,
            event_loop_lag_seconds=self.loop_lag.seconds(),
            store_bytes=store_sizes(self.store_dir),
        )

    def _figure(self, name: str, read: Callable[[], _N]) -> _N | None:
        try:
            return read()
        except (psutil.Error, OSError) as exc:
            if name not in self._unreadable:
                self._unreadable.add(name)
                log.warning("the process's %s cannot be read here (%s); it is left out", name, type(exc).__name__)
            return None

    def _open_files(self) -> int:
        if sys.platform == "win32":
            return int(self._process.num_handles())
        return int(self._process.num_fds())

    def _cpu_percent(self, cpu: float) -> float:
        with self._lock:
            now = time.monotonic()
            span, used = self._mark
            elapsed = span + (now - self._clock)
            if elapsed >= CPU_WINDOW_SECONDS:
                self._percent = max(cpu - used, 0.0) / elapsed * 100
                self._mark, self._clock = (0.0, cpu), now
            return self._percent


def store_sizes(folder: Path) -> dict[str, int]:
    """Bytes of each SQLite file of a profile (its stores and their `-wal`/`-shm` companions; not backups)."""
    sizes = {}
    for path in sorted(folder.glob("*.sqlite*")):
        try:
            if path.is_file():
                sizes[path.name] = path.stat().st_size
        except OSError:  # removed between the listing and the stat (a store set aside)
            continue
    return sizes
