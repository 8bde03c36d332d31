"""Backups: consistent copies made while the store is open, the last few kept, and made on a schedule."""

from pathlib import Path

from gpttrader.domain.events import EventType
from gpttrader.store import Database, EventStore
from gpttrader.store.backup import BackupSchedule, back_up, backups, newest_backup
from gpttrader.store.database import quick_check
from tests.waiting import wait_for


def test_a_backup_is_a_checked_copy_of_what_was_committed(database: Database) -> None:
    events = EventStore(database)
    for i in range(100):
        events.append(EventType.FEED_RESYNC, {"message": str(i)})
    copy = back_up(database.path)
    events.append(EventType.FEED_RESYNC, {"message": "after the backup"})
    assert copy.parent == database.path.parent / "backups"
    assert quick_check(copy) is None
    restored = Database(copy)
    assert [e.payload["message"] for e in EventStore(restored).read()] == [str(i) for i in range(100)]
    restored.close()
    assert newest_backup(database.path) == copy


def test_only_the_newest_backups_are_kept(database: Database) -> None:
    made = [back_up(database.path, keep=3) for _ in range(5)]
    assert backups(database.path) == made[-3:]
    assert not list((database.path.parent / "backups").glob("*.partial"))


def test_the_schedule_backs_up_on_its_interval_and_once_more_when_stopped(database: Database) -> None:
    schedule = BackupSchedule(lambda: [database.path], interval_seconds=0.05)
    schedule.start()
    wait_for(lambda: len(backups(database.path)) >= 2, what="two scheduled backups")
    EventStore(database).append(EventType.FEED_RESYNC, {"message": "last words"})
    schedule.stop()
    final = newest_backup(database.path)
    assert final is not None
    restored = Database(final)
    assert EventStore(restored).tail(1)[0].payload == {"message": "last words"}
    restored.close()


def test_no_backup_yet(tmp_path: Path) -> None:
    assert newest_backup(tmp_path / "gpttrader.sqlite") is None


def test_a_backup_taken_during_a_write_does_not_wait_for_it_and_holds_only_what_was_committed(
    database: Database,
) -> None:
    events = EventStore(database)
    events.append(EventType.BOT_PAUSED, {"operator": "committed"})
    with database.transaction() as conn:
        conn.execute(
            "INSERT INTO events (time, type, payload) VALUES ('2026-01-01T00:00:00+00:00', 'bot.resumed', '{}')"
        )
        copy = back_up(database.path)
    restored = Database(copy)
    assert [e.type for e in EventStore(restored).read()] == [EventType.BOT_PAUSED]
    restored.close()
