"""One bot per profile: whatever trades a profile (`gpttrader run`, a panel session, a notebook's session)
holds an exclusive OS lock on `data/state/<profile>/bot.lock` for its lifetime.

It is `flock`, not a pid file: the kernel releases it when the holder's process ends, however it ends
(SIGKILL, a crash), so there is never a stale lock to remove by hand, and the pid and start time written
into the file are only read to tell a refused second bot who holds it.
"""

import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from gpttrader.store.refusals import StateRefusedError

log = logging.getLogger(__name__)
LOCK_FILE = "bot.lock"
KILL_LOCK_FILE = "kill.lock"  # one kill switch at a time; it never waits for the bot's lock


class ProfileLockedError(StateRefusedError):
    """Another process trades this profile: two bots would send orders from one account and one store."""


_HELD: set[Path] = set()  # the kill locks this process holds: its own sends need no gate meanwhile


class ProfileLock:
    def __init__(self, fd: int, path: Path) -> None:
        self._fd: int | None = fd
        self.path = path

    def release(self) -> None:
        if self._fd is not None:
            if self.path in _HELD:  # bots hold the kill lock shared and write no record: leave none stale
                os.ftruncate(self._fd, 0)
            _HELD.discard(self.path)
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None

    def __enter__(self) -> "ProfileLock":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def hold_profile(state_dir: Path, holder: str, *, lock_file: str = LOCK_FILE, wait: float = 0.0) -> ProfileLock:
    """Take the profile's lock (`lock_file`: the bot's, or the kill switch's own) within `wait` seconds, or
    refuse, naming the holder; `holder` says what this one is."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / lock_file
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by child processes (PEP 446)
    give_up = time.monotonic() + wait
    waited = False
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= give_up:
                    raise
                if not waited:
                    log.warning("%s waits for %s to let go of %s", holder, _describe(os.pread(fd, 4096, 0)), path)
                    waited = True
                time.sleep(0.1)
    except BlockingIOError:
        held = _describe(os.pread(fd, 4096, 0))
        os.close(fd)
        if lock_file == KILL_LOCK_FILE:
            raise ProfileLockedError(
                f"profile {state_dir.name}: another kill switch, {held}, is still working after {wait:.0f} s "
                f"(lock {path}); the halt is recorded; retry once it is done"
            ) from None
        raise ProfileLockedError(
            f"profile {state_dir.name} is already traded by {held} (lock {path}); one bot per profile: stop "
            f"that one first (`gpttrader kill --profile {state_dir.name}` works while it runs)"
        ) from None
    except BaseException:
        os.close(fd)
        raise
    record = {"pid": os.getpid(), "started": datetime.now(UTC).isoformat(timespec="seconds"), "holder": holder}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(record).encode(), 0)
    if lock_file == KILL_LOCK_FILE:
        _HELD.add(path)
    return ProfileLock(fd, path)


class SendGate:
    """The bot's side of the kill switch's lock. A bot sends each order holding it shared, and the kill
    switch works holding it exclusively: a kill from another process waits for an order already on its way,
    and an order decided while a kill works waits, then reads the halt and is refused. Without it a kill
    could report the exchange clean while the bot's order was still in flight."""

    def __init__(self, state_dir: Path) -> None:
        self._path = state_dir / KILL_LOCK_FILE

    @contextmanager
    def __call__(self) -> Iterator[None]:
        if self._path in _HELD:  # this process is the kill switch: its sends are the kill's own
            yield
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)


def _describe(recorded: bytes) -> str:
    try:
        record = json.loads(recorded)
        return f"{record['holder']} (pid {record['pid']}, started {record['started']})"
    except (ValueError, KeyError, TypeError):
        return "a process that has not written its pid (a bot with an order on its way, or one starting)"
