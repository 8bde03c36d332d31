"""A YAML syntax error in a profile or a risk-limits file is a ConfigError naming the file, the line and the
column, never a traceback from the YAML parser."""

from pathlib import Path
from types import SimpleNamespace

import pytest

from gpttrader.app.cli import main
from gpttrader.config import ConfigError, load_config, load_risk_limits, loader


@pytest.fixture
def broken_profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The loader's package data replaced by a folder whose dev profile has an unclosed flow sequence."""
    folder = tmp_path / "package"
    (folder / "profiles").mkdir(parents=True)
    (folder / "profiles" / "dev.yaml").write_text(
        "broker: deterministic\nsymbols: [BTC-USD, ETH-USD\nlog_level: DEBUG\n"
    )
    monkeypatch.setattr(loader, "resources", SimpleNamespace(files=lambda package: folder))
    return folder / "profiles" / "dev.yaml"


def test_a_profile_with_a_syntax_error_names_file_line_and_column(
    clean_env: dict[str, str], broken_profiles: Path
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config("dev")
    message = str(info.value)
    assert message.startswith(f"profile dev ({broken_profiles}), line ")
    assert ", column " in message


def test_config_show_with_a_broken_profile_exits_2(
    clean_env: dict[str, str], broken_profiles: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "show", "--profile", "dev"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gpttrader: error: profile dev ({broken_profiles}), line ")
    assert err.count("\n") == 1


def test_a_risk_limits_file_with_a_syntax_error_names_file_line_and_column(
    clean_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("max_leverage: 1\nsymbols:\n  BTC-USD: {max_notional: 1\n")
    with pytest.raises(ConfigError, match=rf"^{path}, line 4, column 1: "):
        load_risk_limits(str(path))
    with pytest.raises(ConfigError, match=rf"^{path}, line 4, column 1: "):
        load_config("dev", overrides={"risk": {"limits_file": str(path)}})


def test_a_risk_limits_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes("max_leverage: 1\n# caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=rf"^{path}: not UTF-8 text"):
        load_risk_limits(str(path))
