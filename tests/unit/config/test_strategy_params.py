"""`strategy.params` is checked when the configuration loads, against the parameters the strategy declares:
a typo or a wrong type is a ConfigError naming `strategy.params.<name>`, the value and the parameters."""

import inspect
import typing
from typing import Any

import pytest

from gpttrader.app.cli import main
from gpttrader.config import ConfigError, load_config, loader
from gpttrader.config.strategy_params import (
    STRATEGY_PARAMETERS,
    Parameters,
    StrategyParameterError,
    strategy_arguments,
)
from gpttrader.strategy.registry import STRATEGIES

BASELINE = "fast, slow, rsi_period, rsi_overbought, rsi_oversold, stop_loss, take_profit"


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        (
            {"params": {"fsat": 5}},
            "profile dev: strategy.params.fsat = 5: strategy baseline takes no parameter 'fsat'; "
            f"parameters: {BASELINE}",
        ),
        (
            {"params": {"fast": "five"}},
            "profile dev: strategy.params.fast = 'five': strategy baseline: fast must be int, got 'five'",
        ),
        (
            {"params": {"fast": 2.5}},
            "profile dev: strategy.params.fast = 2.5: strategy baseline: fast must be a whole number, got 2.5",
        ),
        (
            {"params": {"stop_loss": ".nan"}},
            "profile dev: strategy.params.stop_loss = '.nan': strategy baseline: stop_loss must be float, got '.nan'",
        ),
        (
            {"params": {"stop_loss": "inf"}},
            "profile dev: strategy.params.stop_loss = 'inf': strategy baseline: stop_loss must be a finite number",
        ),
        (
            {"name": "ma_cross", "params": {"fast": 5, "slow": "thirty"}},
            "profile dev: strategy.params.slow = 'thirty': strategy ma_cross: slow must be int, got 'thirty'",
        ),
        (
            {"name": "turtle", "params": {}},
            "profile dev: strategy.name = 'turtle': unknown strategy 'turtle'; strategies: ma_cross, rsi, macd,",
        ),
    ],
)
def test_bad_strategy_params_are_refused_when_the_configuration_loads(
    clean_env: dict[str, str], strategy: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config("dev", overrides={"strategy": strategy})
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)  # one problem, one line


def test_good_strategy_params_load_as_written(clean_env: dict[str, str]) -> None:
    config = load_config("dev", overrides={"strategy": {"name": "ma_cross", "params": {"fast": "5", "slow": 20}}})
    assert config.strategy.params == {"fast": "5", "slow": 20}


@pytest.fixture
def misspelt_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dev profile with `fast` misspelt `fsat`, as a person might edit it."""
    read = loader.read_profile

    def misspelt(name: str) -> dict[str, Any]:
        profile = read(name)  # type: ignore[arg-type]
        profile["strategy"] = {"name": "baseline", "params": {"fsat": 5, "slow": 20}}
        return profile

    monkeypatch.setattr(loader, "read_profile", misspelt)


@pytest.mark.usefixtures("misspelt_profile")
@pytest.mark.parametrize("command", [["config", "show"], ["run", "--dev-fast", "--cycles", "1"]])
def test_a_misspelt_parameter_stops_the_command_before_it_runs(
    clean_env: dict[str, str], capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    assert main([*command, "--profile", "dev"]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        "gpttrader: error: profile dev: strategy.params.fsat = 5: strategy baseline takes no parameter 'fsat'; "
        f"parameters: {BASELINE}\n"
    )
    assert captured.out == ""


def test_the_declarations_match_the_strategies_constructors() -> None:
    assert list(STRATEGIES) == list(STRATEGY_PARAMETERS)
    for name, constructor in STRATEGIES.items():
        signature = inspect.signature(constructor).parameters
        declared = STRATEGY_PARAMETERS[name]
        hints = typing.get_type_hints(constructor)
        assert {key: hints[key] for key in declared.types} == declared.types, name
        assert {p.name for p in signature.values() if p.default is p.empty} == declared.required, name


def test_a_declared_parameter_without_a_default_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    """A strategy whose constructor has no default for a parameter declares it required: leaving it out is
    refused naming it, before anything is built."""
    needs_slow = Parameters({"fast": int, "slow": int}, required=frozenset({"slow"}))
    monkeypatch.setitem(STRATEGY_PARAMETERS, "ma_cross", needs_slow)
    with pytest.raises(
        StrategyParameterError, match=r"strategy ma_cross needs parameters slow \(parameters: fast, slow\)"
    ):
        strategy_arguments("ma_cross", {"fast": 5})
