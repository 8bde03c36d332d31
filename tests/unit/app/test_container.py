from pathlib import Path

from gpttrader.app import ApplicationContainer
from gpttrader.config import load_config
from gpttrader.domain.events import EventType
from gpttrader.store import DATABASE_FILE


def test_services_are_built_lazily_and_once(clean_env: dict[str, str], tmp_path: Path) -> None:
    config = load_config("dev")
    container = ApplicationContainer(config)
    assert not (config.state_dir / DATABASE_FILE).exists()
    events = container.event_store
    assert container.event_store is events
    assert container.orders_store is container.orders_store
    assert (config.state_dir / DATABASE_FILE).exists()
    assert config.state_dir == tmp_path / "data" / "state" / "dev"
    container.close()


def test_reopening_after_close_sees_what_was_written(clean_env: dict[str, str]) -> None:
    config = load_config("paper")
    with ApplicationContainer(config) as container:
        container.event_store.append(EventType.BOT_PAUSED, {"operator": "ops"})
    with ApplicationContainer(config) as container:
        assert [e.type for e in container.event_store.tail()] == [EventType.BOT_PAUSED]
