"""The panel's view before a session: a lost or damaged store is shown with its fix, never read as a first run
(which would invite a Start on an empty store) and never a traceback."""

from pathlib import Path

from gpttrader.panel.render import stored_html
from gpttrader.panel.view import read_stored
from gpttrader.store import DATABASE_FILE
from gpttrader.store.integrity import open_store


def test_a_store_emptied_since_it_was_made_is_shown_as_refused(tmp_path: Path) -> None:
    state = tmp_path / "state" / "paper"
    assert read_stored(state).first_run
    open_store(state, DATABASE_FILE).close()  # made (and marked) by a first session
    assert not read_stored(state).first_run
    (state / DATABASE_FILE).write_bytes(b"")
    shown = read_stored(state)
    assert not shown.first_run
    assert shown.refused is not None
    assert "gpttrader store adopt --profile paper" in shown.refused
    assert "Store refused" in stored_html(shown, "paper")
