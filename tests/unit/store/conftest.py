from collections.abc import Iterator
from pathlib import Path

import pytest

from gpttrader.store import Database


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database.for_state_dir(tmp_path / "state" / "dev")
    yield db
    db.close()
