"""Backups of a profile's stores under `data/state/<profile>/backups/`, the last few of each kept.

A backup is made with SQLite's online backup API through a connection of its own: under WAL it copies a
consistent snapshot while the bot goes on writing, never blocking it. It is checked with `quick_check`
before it counts, and only then given its final name, so the newest backup is always one that can be
restored. Names sort by time (`gpttrader-20261201T120000123456Z.sqlite`).
"""

import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from gpttrader.store.database import quick_check
from gpttrader.store.errors import StoreError

BACKUPS_DIR = "backups"
KEEP_BACKUPS = 10

log = logging.getLogger(__name__)


def back_up(store: Path, *, keep: int = KEEP_BACKUPS) -> Path:
    """A checked copy of the store at `store` next to it, under backups/; the oldest beyond `keep` go."""
    folder = store.parent / BACKUPS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{store.stem}-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}.sqlite"
    partial = target.with_name(target.name + ".partial")
    source = sqlite3.connect(store.absolute().as_uri() + "?mode=rw", uri=True)
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    problem = quick_check(partial)
    if problem is not None:
        partial.unlink()
        raise StoreError(f"the backup of {store} {problem}; the store itself may be damaged")
    os.replace(partial, target)
    for old in backups(store)[:-keep]:
        old.unlink()
    return target


def backups(store: Path) -> list[Path]:
    """The backups of the store at `store`, oldest first."""
    return sorted((store.parent / BACKUPS_DIR).glob(f"{store.stem}-*.sqlite"))


def newest_backup(store: Path) -> Path | None:
    return max(backups(store), default=None)


class BackupSchedule:
    """Backs up the stores every `interval_seconds` on a thread of its own, and once more when stopped
    (a bot's clean shutdown). A failed backup is logged, never raised: it must not stop the trading it
    protects."""

    def __init__(self, stores: Callable[[], list[Path]], interval_seconds: float) -> None:
        self._stores, self._interval = stores, interval_seconds
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="gpttrader-backups", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()
        self._round()

    def _loop(self) -> None:
        while not self._stopped.wait(self._interval):
            self._round()

    def _round(self) -> None:
        for store in self._stores():
            try:
                back_up(store)
            except Exception:
                log.exception("could not back up %s", store)
