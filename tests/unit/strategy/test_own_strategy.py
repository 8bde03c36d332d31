"""A researcher's own strategy, as the README writes it, goes wherever a built-in's name goes: a sweep, the
CLI as module:Class, a paper session, and by a registered name."""

import importlib
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from gpttrader.backtest import parameter_sweep, run_backtest
from gpttrader.marketdata import load_candles
from gpttrader.strategy import STRATEGIES, register_strategy, resolve_strategy

ROOT = Path(__file__).resolve().parents[3]


def readme_blocks(after: str) -> list[str]:
    """The python code blocks of the README section headed `after`, verbatim."""
    text = (ROOT / "README.md").read_text()
    section = text.split(f"### {after}\n", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


@pytest.fixture
def own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The README's strategy saved as my_strategy.py, imported from the current directory."""
    (tmp_path / "my_strategy.py").write_text(readme_blocks("Writing your own strategy")[0])
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module("my_strategy")
    sys.modules.pop("my_strategy", None)


@pytest.fixture(scope="module")
def candles() -> dict[str, pd.DataFrame]:
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC)
    return {"ETH-USD": load_candles("ETH-USD", "ONE_HOUR", start=start, end=end, data_dir=ROOT / "data")}


def test_the_readme_strategy_is_about_twenty_lines_and_runs_stepped(
    own: ModuleType, candles: dict[str, pd.DataFrame]
) -> None:
    assert len(readme_blocks("Writing your own strategy")[0].strip().splitlines()) <= 25
    momentum = own.Momentum(lookback=24)
    assert not hasattr(momentum, "targets")  # on_bar only: stepped
    result = run_backtest(momentum, candles["ETH-USD"])
    assert result.metrics["trades"] > 0
    assert {f.product_id for f in result.fills} == {"ETH-USD"}


def test_a_sweep_takes_the_class_and_converts_the_grid(own: ModuleType, candles: dict[str, pd.DataFrame]) -> None:
    table = parameter_sweep(
        own.Momentum, {"lookback": [12, 48], "band": [0.0, 0.01]}, candles, processes=2, progress=False
    )
    assert len(table) == 4
    assert table["error"].isna().all(), table["error"]
    assert (table["trades"] > 0).all()
    spelled = parameter_sweep("my_strategy:Momentum", {"lookback": ["12"]}, candles, processes=1, progress=False)
    assert spelled.loc[0, "trades"] == table[(table["lookback"] == 12) & (table["band"] == 0.0)]["trades"].iloc[0]
    with pytest.raises(ValueError, match="takes no parameter 'speed'; parameters: lookback, band"):
        parameter_sweep(own.Momentum, {"speed": [1]}, candles, progress=False)
    with pytest.raises(ValueError, match="lookback must be int, got 'long'"):
        parameter_sweep(own.Momentum, {"lookback": ["long"]}, candles, progress=False)


def test_resolving_names_classes_objects_and_module_paths(own: ModuleType) -> None:
    made = own.Momentum(lookback=5)
    assert resolve_strategy(made) is made
    assert resolve_strategy(own.Momentum, {"lookback": "5"}) == made
    assert resolve_strategy("my_strategy:Momentum", {"lookback": 5}) == made
    with pytest.raises(ValueError, match="built already"):
        resolve_strategy(made, {"lookback": 6})
    with pytest.raises(ValueError, match="cannot import 'no_such_module'"):
        resolve_strategy("no_such_module:Momentum")
    with pytest.raises(ValueError, match="has no strategy class 'Nope'"):
        resolve_strategy("my_strategy:Nope")
    register_strategy("readme_momentum", own.Momentum)
    try:
        assert resolve_strategy("readme_momentum", {"lookback": "5"}) == made
        with pytest.raises(ValueError, match="registered already"):
            register_strategy("ma_cross", own.Momentum)
    finally:
        from gpttrader.config.strategy_params import STRATEGY_PARAMETERS

        STRATEGIES.pop("readme_momentum")
        STRATEGY_PARAMETERS.pop("readme_momentum")


def test_the_cli_backtests_module_colon_class_from_the_current_directory(
    own: ModuleType, clean_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**clean_env, "GPTTRADER_DATA_DIR": str(ROOT / "data")}
    out = tmp_path / "report.html"
    script = Path(sys.executable).with_name("gpttrader")
    common = ["--product", "ETH-USD", "--start", "2025-01-01", "--end", "2025-03-01", "--out", str(out)]
    result = subprocess.run(
        [str(script), "backtest", "--strategy", "my_strategy:Momentum", "--param", "lookback=48", *common],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"trades\s+[1-9]", result.stdout), result.stdout
    assert out.is_file()
    refused = subprocess.run(
        [str(script), "backtest", "--strategy", "my_strategy:Momentum", "--param", "speed=1", *common],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 2
    assert "takes no parameter 'speed'" in refused.stderr


def test_a_paper_session_runs_the_class(own: ModuleType, clean_env: dict[str, str]) -> None:
    from gpttrader.app.sessions import paper_session

    session = paper_session(strategy=own.Momentum, strategy_params={"lookback": 3}, cycles=20)
    assert session.summary.orders > 0
    assert session.decisions["client_order_id"].str.contains("-momentum-").all()  # the orders are the class's


def test_the_readme_usage_block_runs_verbatim(
    own: ModuleType, clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # its data_dir=Path("data") is the repository's
    namespace: dict[str, object] = {"Path": Path, "load_candles": load_candles}  # from the block above it
    exec(readme_blocks("Writing your own strategy")[1], namespace)
    table = namespace["table"]
    assert isinstance(table, pd.DataFrame)
    assert len(table) == 6
    assert table["error"].isna().all()
    assert namespace["paper"].summary.orders > 0  # type: ignore[attr-defined]
