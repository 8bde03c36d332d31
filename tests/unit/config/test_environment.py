from pathlib import Path

import pytest

from gpttrader.config import ConfigError, UnknownProfileError, load_config


def test_default_profile_is_dev_then_gpttrader_profile(clean_env: dict[str, str]) -> None:
    assert load_config(env=clean_env).profile == "dev"
    assert load_config(env={**clean_env, "GPTTRADER_PROFILE": "paper"}).profile == "paper"


def test_perps_paper_selects_paper(clean_env: dict[str, str]) -> None:
    assert load_config(env={**clean_env, "PERPS_PAPER": "1"}).profile == "paper"
    assert load_config("paper", env={**clean_env, "PERPS_PAPER": "1"}).profile == "paper"


def test_perps_paper_conflicting_with_a_live_profile_is_an_error(clean_env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="PERPS_PAPER=1 selects the paper profile, but profile 'prod'"):
        load_config("prod", env={**clean_env, "PERPS_PAPER": "1"})


def test_spot_force_live_points_dev_at_coinbase(clean_env: dict[str, str]) -> None:
    config = load_config("dev", env={**clean_env, "SPOT_FORCE_LIVE": "1"})
    assert config.broker == "coinbase"
    assert config.is_live
    with pytest.raises(ConfigError, match="SPOT_FORCE_LIVE=1 applies to the dev profile only"):
        load_config("paper", env={**clean_env, "SPOT_FORCE_LIVE": "1"})


def test_derivatives_switch_opens_perpetuals(clean_env: dict[str, str]) -> None:
    overrides = {"symbols": ["BTC-USD", "BTC-PERP-INTX"]}
    with pytest.raises(ConfigError, match="BTC-PERP-INTX are perpetuals: set COINBASE_ENABLE_DERIVATIVES=1"):
        load_config("dev", overrides=overrides, env=clean_env)
    config = load_config("dev", overrides=overrides, env={**clean_env, "COINBASE_ENABLE_DERIVATIVES": "1"})
    assert config.derivatives_enabled
    assert config.symbols == ("BTC-USD", "BTC-PERP-INTX")


def test_sandbox_url_log_level_and_data_dir(clean_env: dict[str, str], tmp_path: Path) -> None:
    env = {
        **clean_env,
        "COINBASE_SANDBOX_URL": "https://127.0.0.1:8443",
        "GPTTRADER_LOG_LEVEL": "warning",
        "GPTTRADER_DATA_DIR": str(tmp_path / "elsewhere"),
    }
    config = load_config("canary", env=env)
    assert config.coinbase.sandbox_url == "https://127.0.0.1:8443"
    assert config.log_level == "WARNING"
    assert config.state_dir == tmp_path / "elsewhere" / "state" / "canary"


def test_arguments_win_over_environment(clean_env: dict[str, str]) -> None:
    env = {**clean_env, "GPTTRADER_LOG_LEVEL": "ERROR"}
    assert load_config("dev", env=env, overrides={"log_level": "INFO"}).log_level == "INFO"


@pytest.mark.parametrize("variable", ["PERPS_PAPER", "SPOT_FORCE_LIVE", "COINBASE_ENABLE_DERIVATIVES"])
def test_a_switch_that_is_not_a_boolean_is_named(clean_env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=f"{variable}='maybe' is not a switch; use 1/true/yes/on or 0/false"):
        load_config("dev", env={**clean_env, variable: "maybe"})


def test_unknown_profile_lists_the_profiles(clean_env: dict[str, str]) -> None:
    with pytest.raises(UnknownProfileError, match="unknown profile 'staging'; profiles: dev, paper, canary, prod"):
        load_config("staging")
    with pytest.raises(UnknownProfileError):
        load_config(env={**clean_env, "GPTTRADER_PROFILE": "staging"})


def test_bad_sandbox_url_is_named(clean_env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="coinbase.sandbox_url = 'localhost': .*base URL"):
        load_config("dev", env={**clean_env, "COINBASE_SANDBOX_URL": "localhost"})
