"""A profile's stores are never lost silently.

SQLite opens a missing or zero-byte file as a new, empty database, so a lost store would come back empty:
the bot would start active (it was reduce-only), flat (the exchange holds coins) and cancel its own exit
orders as unknown. So every store is checked when opened: it must pass `quick_check`, and a store the
profile has created before (the marker, `stores.json` in the state directory, says when) must still be
there and not empty. A store that fails is refused, with the fix: restore a backup, or start a new store
that adopts the exchange's state (`gpttrader store adopt`).

The marker lives outside the stores because it must survive what happens to them. It maps each store's
file name to when it was created: `{"gpttrader.sqlite": "2026-12-01T12:00:00.000000+00:00"}`.
"""

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from gpttrader.domain.events import EventType
from gpttrader.store.backup import BACKUPS_DIR, newest_backup
from gpttrader.store.database import DATABASE_FILE, Database, quick_check
from gpttrader.store.events import EventStore
from gpttrader.store.refusals import DamagedStoreError
from gpttrader.store.venue import VENUE_FILE

MARKER_FILE = "stores.json"
STORE_FILES = (DATABASE_FILE, VENUE_FILE)


def open_store(state_dir: Path, name: str) -> Database:
    """The store `name` of the profile whose state is in `state_dir`: checked, or created (and marked)."""
    found = diagnose(state_dir, name)
    if found is not None:
        raise DamagedStoreError(refusal(state_dir, name, found))
    database = Database(state_dir / name)
    if name not in created(state_dir):
        _write_marker(state_dir, {**created(state_dir), name: datetime.now(UTC).isoformat(timespec="microseconds")})
    return database


def diagnose(state_dir: Path, name: str) -> str | None:
    """What is wrong with the store `name` (said as the end of a sentence about it), or None."""
    path = state_dir / name
    since = created(state_dir).get(name)
    if not path.exists():
        return None if since is None else f"is missing, but this profile created it on {since}"
    if path.stat().st_size == 0:
        # Unmarked, an empty file is a store being created (SQLite writes its first page on the first write).
        return None if since is None else f"is empty (zero bytes), but this profile created it on {since}"
    return quick_check(path)


def known_stores(state_dir: Path) -> list[str]:
    """The stores of the profile: those it created (lost ones included) and those present."""
    marked = created(state_dir)
    return [name for name in STORE_FILES if name in marked or (state_dir / name).exists()]


def created(state_dir: Path) -> dict[str, str]:
    """When each store of the profile was created, from the marker."""
    marker = state_dir / MARKER_FILE
    try:
        text = marker.read_text()
    except FileNotFoundError:
        return {}
    try:
        marked = json.loads(text)
    except json.JSONDecodeError:
        marked = None
    if not isinstance(marked, dict):
        raise DamagedStoreError(
            f"{marker} is not the JSON object of store names and creation times it should be; "
            f"it says which stores this profile has created: restore it, or remove it only if none was lost"
        )
    return {str(name): str(since) for name, since in marked.items()}


def set_aside(state_dir: Path, name: str) -> Path | None:
    """Move a damaged store (with its WAL files) aside, kept for inspection, and forget that it was created,
    so that the next open starts a new one. Returns where it went (None: it was missing)."""
    path = state_dir / name
    kept = None
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    for suffix in ("", "-wal", "-shm"):
        part = path.with_name(path.name + suffix)
        if part.exists():
            moved = part.with_name(f"{part.name}.damaged-{stamp}")
            os.replace(part, moved)
            kept = kept or moved
    _write_marker(state_dir, {n: since for n, since in created(state_dir).items() if n != name})
    return kept


def has_met_the_account(events: EventStore) -> bool:
    """Whether this store has known the exchange account: a bot started on it, or an operator adopted it."""
    return events.latest(EventType.BOT_STARTED) is not None or events.latest(EventType.STORE_ADOPTED) is not None


def refusal(state_dir: Path, name: str, problem: str) -> str:
    path = state_dir / name
    backup = newest_backup(path)
    restore = (
        f"restore the newest backup, {backup}, with no bot running (delete {name}-wal and {name}-shm if present): "
        f"cp {backup} {path}"
        if backup is not None
        else f"restore a backup (none under {path.parent / BACKUPS_DIR})"
    )
    return (
        f"{path} {problem}. Refusing to use it: a new, empty store would not know the orders, positions "
        f"and trading state the old one held. Fix: {restore}; or start a new store that adopts the exchange's "
        f'current state: gpttrader store adopt --profile {state_dir.name} --reason "..."'
    )


def _write_marker(state_dir: Path, marked: dict[str, str]) -> None:
    """Replace the marker atomically: a crash leaves the old one or the new one, never half of one."""
    state_dir.mkdir(parents=True, exist_ok=True)
    partial = state_dir / f"{MARKER_FILE}.partial"
    with partial.open("w") as handle:
        json.dump(marked, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, state_dir / MARKER_FILE)
