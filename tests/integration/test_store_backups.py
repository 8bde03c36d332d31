"""A bot's stores are backed up on the configured interval while it runs, and once more when it closes."""

from gpttrader.app import ApplicationContainer
from gpttrader.config import load_config
from gpttrader.domain.events import EventType
from gpttrader.store import Database, EventStore
from gpttrader.store.backup import backups, newest_backup
from gpttrader.store.database import quick_check
from tests.waiting import wait_for


def test_a_claimed_profile_is_backed_up_every_store_backup_interval_seconds(clean_env: dict[str, str]) -> None:
    config = load_config("dev", overrides={"store_backup_interval_seconds": 1})
    store = config.state_dir / "gpttrader.sqlite"
    with ApplicationContainer(config) as container:
        container.claim("backup test")
        container.event_store.append(EventType.FEED_RESYNC, {"message": "first"})
        wait_for(lambda: len(backups(store)) >= 2, what="two backups a second apart")
        container.event_store.append(EventType.FEED_RESYNC, {"message": "last"})
    final = newest_backup(store)
    assert final is not None
    assert quick_check(final) is None
    copy = Database(final)
    assert EventStore(copy).tail(1)[0].payload == {"message": "last"}, "the closing backup missed the last write"
    copy.close()


def test_a_read_only_container_makes_no_backup(clean_env: dict[str, str]) -> None:
    config = load_config("dev")
    with ApplicationContainer(config) as container:
        container.event_store.append(EventType.FEED_RESYNC, {"message": "read-only use"})
    assert backups(config.state_dir / "gpttrader.sqlite") == []
