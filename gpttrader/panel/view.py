"""What the panel shows of a profile before any session: its stores as they are. A running session shows
the bot's own state (gpttrader.engine.state), which each cycle leaves frozen."""

from dataclasses import dataclass
from pathlib import Path
from typing import cast

from gpttrader.domain.events import BotStoppedPayload, EventType
from gpttrader.store import DATABASE_FILE, EventStore
from gpttrader.store.integrity import known_stores, open_store
from gpttrader.store.refusals import DamagedStoreError


@dataclass(frozen=True)
class StoredView:
    """A profile as its stores leave it, before any session of the panel: nothing (a first run), or its
    trading state and how its last session ended."""

    state_dir: Path
    first_run: bool
    state: str | None = None
    last_session: BotStoppedPayload | None = None
    refused: str | None = None  # the store is lost or damaged: why, and the fix


def read_stored(state_dir: Path) -> StoredView:
    """The profile's stored state before a session; a lost or damaged store is shown with its fix (Start
    would be refused the same way), never read as a first run or shown as a traceback."""
    if DATABASE_FILE not in known_stores(state_dir):
        return StoredView(state_dir, first_run=True)
    try:
        database = open_store(state_dir, DATABASE_FILE)
    except DamagedStoreError as exc:
        return StoredView(state_dir, first_run=False, refused=str(exc))
    try:
        events = EventStore(database)
        changed = events.latest(EventType.RISK_STATE_CHANGED)
        return StoredView(
            state_dir,
            first_run=False,
            state=str(changed["to"]) if changed else "active",
            # its values are text, numbers and a dict of text, which read back exactly as written
            last_session=cast(BotStoppedPayload | None, events.latest(EventType.BOT_STOPPED)),
        )
    finally:
        database.close()
