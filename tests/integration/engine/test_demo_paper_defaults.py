"""The demo's paper session on the shipped defaults: the paper trading notebook's own parameters, its local
sandbox and the paper profile as shipped. It trades, pays its fees and stays `active` through its run; an
account left reduce-only by the dollar limit of before (one round trip's fees over a $100 hourly loss) does
not keep it from trading."""

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.app.sessions import paper_session
from gpttrader.config import load_config
from tests.unit.risk.test_loss_limits import old_dollar_trip

NOTEBOOK = Path(__file__).resolve().parents[3] / "notebooks" / "paper_trading.ipynb"


def notebook_parameters() -> dict[str, Any]:
    """The values of the notebook's `parameters` cell, as `make demo` runs it."""
    cell = next(c for c in json.loads(NOTEBOOK.read_text())["cells"] if "parameters" in c["metadata"].get("tags", []))
    tree = ast.parse("".join(cell["source"]))
    return {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }


@pytest.fixture
def data(tmp_path: Path, clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GPTTRADER_DATA_DIR", str(tmp_path))
    return tmp_path


def test_the_demos_paper_session_stays_active_on_the_shipped_defaults(data: Path) -> None:
    session = paper_session(**notebook_parameters())
    assert session.summary.fills > 0  # it traded, and paid its fees
    assert session.summary.state == "active", session.summary.lines()


def test_an_account_stopped_by_the_old_dollar_limit_trades_again(data: Path) -> None:
    with ApplicationContainer(load_config("paper")) as container:
        old_dollar_trip(container.event_store)
    session = paper_session(**notebook_parameters())
    assert session.summary.state == "active", session.summary.lines()
    assert session.summary.fills > 0
