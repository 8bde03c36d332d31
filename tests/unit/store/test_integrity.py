"""A profile's stores are checked when opened: a lost, emptied or garbled store is refused with the fix,
never silently recreated; a new store is marked as created, in a file that outlives the store."""

import json
import os
from pathlib import Path

import pytest

from gpttrader.domain.events import EventType
from gpttrader.store import DATABASE_FILE, Database, EventStore
from gpttrader.store.backup import back_up
from gpttrader.store.integrity import MARKER_FILE, diagnose, known_stores, open_store, set_aside
from gpttrader.store.refusals import DamagedStoreError
from gpttrader.store.venue import VENUE_FILE


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state" / "dev"


def store_with_history(state_dir: Path, events: int = 10) -> Path:
    database = open_store(state_dir, DATABASE_FILE)
    store = EventStore(database)
    for i in range(events):
        store.append(EventType.FEED_RESYNC, {"message": f"{i} {'x' * 300}"})
    database.close()
    return state_dir / DATABASE_FILE


def garble_middle(path: Path) -> None:
    """Overwrite whole pages in the middle of the file, as a bad disk or a stray write would."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2 // 4096 * 4096
    data[middle : middle + 4 * 4096] = b"\xff" * (4 * 4096)
    path.write_bytes(bytes(data))


def test_a_new_store_is_created_and_marked(state_dir: Path) -> None:
    open_store(state_dir, DATABASE_FILE).close()
    marked = json.loads((state_dir / MARKER_FILE).read_text())
    assert list(marked) == [DATABASE_FILE]
    assert known_stores(state_dir) == [DATABASE_FILE]


def test_an_emptied_store_is_refused_naming_the_file_the_newest_backup_and_adopt(state_dir: Path) -> None:
    path = store_with_history(state_dir)
    database = open_store(state_dir, DATABASE_FILE)
    back_up(database.path)
    newest = back_up(database.path)
    database.close()
    os.truncate(path, 0)
    with pytest.raises(DamagedStoreError) as refused:
        open_store(state_dir, DATABASE_FILE)
    message = str(refused.value)
    assert f"{path} is empty (zero bytes)" in message
    assert f"cp {newest} {path}" in message
    assert 'gpttrader store adopt --profile dev --reason "..."' in message
    assert path.stat().st_size == 0, "the refused store was written to"


def test_a_lost_store_is_refused(state_dir: Path) -> None:
    path = store_with_history(state_dir)
    path.unlink()
    with pytest.raises(DamagedStoreError, match=f"{path} is missing, but this profile created it on 20"):
        open_store(state_dir, DATABASE_FILE)
    assert not path.exists()
    assert known_stores(state_dir) == [DATABASE_FILE]


def test_a_store_garbled_in_the_middle_is_refused_though_its_newest_events_still_read(state_dir: Path) -> None:
    path = store_with_history(state_dir, events=3000)
    garble_middle(path)
    database = Database(path)  # what reading the store without the check does: the tail still reads
    assert EventStore(database).tail(1)[0].payload["message"].startswith("2999 ")
    database.close()
    with pytest.raises(
        DamagedStoreError,
        match=r"sqlite (fails SQLite's integrity check|cannot be read by SQLite).*restore a backup \(none under",
    ):
        open_store(state_dir, DATABASE_FILE)


def test_a_store_with_a_garbled_header_is_refused(state_dir: Path) -> None:
    path = store_with_history(state_dir)
    data = bytearray(path.read_bytes())
    data[:100] = b"\x00" * 100
    path.write_bytes(bytes(data))
    with pytest.raises(DamagedStoreError, match="cannot be read by SQLite \\(file is not a database\\)"):
        open_store(state_dir, DATABASE_FILE)


def test_a_store_from_before_the_marker_is_checked_then_marked(state_dir: Path) -> None:
    Database(state_dir / VENUE_FILE).close()
    assert known_stores(state_dir) == [VENUE_FILE]
    open_store(state_dir, VENUE_FILE).close()
    assert list(json.loads((state_dir / MARKER_FILE).read_text())) == [VENUE_FILE]
    (state_dir / VENUE_FILE).unlink()
    with pytest.raises(DamagedStoreError, match="venue.sqlite is missing"):
        open_store(state_dir, VENUE_FILE)


def test_a_damaged_store_set_aside_is_kept_and_a_new_one_starts(state_dir: Path) -> None:
    path = store_with_history(state_dir)
    os.truncate(path, 0)
    kept = set_aside(state_dir, DATABASE_FILE)
    assert kept is not None
    assert kept.exists()
    assert kept.name.startswith("gpttrader.sqlite.damaged-")
    database = open_store(state_dir, DATABASE_FILE)
    assert EventStore(database).count() == 0
    database.close()
    assert diagnose(state_dir, DATABASE_FILE) is None


def test_an_unreadable_marker_is_refused_rather_than_forgotten(state_dir: Path) -> None:
    store_with_history(state_dir)
    (state_dir / MARKER_FILE).write_text("{not json")
    with pytest.raises(DamagedStoreError, match="stores.json is not the JSON object"):
        open_store(state_dir, DATABASE_FILE)
