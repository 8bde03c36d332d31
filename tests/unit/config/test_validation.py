from pathlib import Path

import pytest

from gpttrader.config import ConfigError, load_config, load_risk_limits


def test_bad_values_name_field_value_and_allowed(clean_env: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(
            "canary",
            overrides={"broker": "kraken", "risk": {"max_impact_bps": -5, "max_position_fraction": 2}},
        )
    message = str(info.value)
    assert "broker = 'kraken': Input should be 'deterministic', 'paper' or 'coinbase'" in message
    assert "risk.max_impact_bps = -5: Input should be greater than or equal to 0" in message
    assert "risk.max_position_fraction = 2: Input should be less than or equal to 1" in message


def test_a_guard_with_an_unknown_comparison_or_a_negative_limit_is_refused(clean_env: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(
            "dev",
            overrides={"guards": {"max_drawdown": {"comparison": "above"}, "daily_loss": {"limit": "-1"}}},
        )
    message = str(info.value)
    assert (
        "guards.max_drawdown.comparison = 'above': Input should be 'gt', 'ge', 'lt', 'le', 'abs_gt' or 'abs_lt'"
        in message
    )
    assert "guards.daily_loss.limit = '-1': Input should be greater than or equal to 0" in message
    with pytest.raises(ConfigError, match="guards.max_drawdown.action = 'panic': Input should be 'warn', "):
        load_config("dev", overrides={"guards": {"max_drawdown": {"action": "panic"}}})
    with pytest.raises(ConfigError, match="guards.my_guard: unknown key; allowed keys: api_errors, concentration,"):
        load_config("dev", overrides={"guards": {"my_guard": {"limit": 1}}})


def test_unknown_keys_are_errors_listing_allowed_keys(clean_env: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as info:
        load_config("dev", overrides={"risk": {"max_leverge": 5}, "colour": "red"})
    message = str(info.value)
    assert "risk.max_leverge: unknown key; allowed keys: api_error_window_seconds, correlation_window," in message
    assert "colour: unknown key; allowed keys: alerts, broker, coinbase, credentials, data_dir," in message


def test_unknown_key_inside_an_optional_section_lists_its_keys(clean_env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="trading_window.timezone: unknown key; allowed keys: end, start"):
        load_config("canary", overrides={"trading_window": {"timezone": "CET"}})


@pytest.mark.parametrize("key", ["credentials", "risk_limits", "profile"])
def test_loader_only_keys_are_refused_from_arguments(clean_env: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError, match=f"arguments: {key} cannot be set here"):
        load_config("dev", overrides={key: "x"})


def test_unquoted_yaml_clock_time_is_refused(clean_env: dict[str, str]) -> None:
    # YAML 1.1 turns an unquoted 14:00 into 840; that must not become 00:14.
    with pytest.raises(ConfigError, match=r'trading_window.start = 840: .*quoted "HH:MM"'):
        load_config("canary", overrides={"trading_window": {"start": 840, "end": "15:00"}})
    with pytest.raises(ConfigError, match="window would be empty"):
        load_config("canary", overrides={"trading_window": {"start": "15:00", "end": "15:00"}})


def test_symbols_are_checked(clean_env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="'btc' is not a product id"):
        load_config("dev", overrides={"symbols": ["btc"]})
    with pytest.raises(ConfigError, match="symbols must not repeat"):
        load_config("dev", overrides={"symbols": ["BTC-USD", "BTC-USD"]})
    with pytest.raises(ConfigError, match=r"symbols = \[\]: .*at least 1 item"):
        load_config("dev", overrides={"symbols": []})
    with pytest.raises(ConfigError, match="PEPE-USD have no limits in risk limits 'spot_top10'"):
        load_config("dev", overrides={"symbols": ["BTC-USD", "PEPE-USD"]})
    with pytest.raises(ConfigError, match="risk.max_position_size names ETH-USD, which are not in symbols"):
        load_config("canary", overrides={"risk": {"max_position_size": {"ETH-USD": 1}}})


def test_cross_field_rules(clean_env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="method fixed_notional needs sizing.notional"):
        load_config("dev", overrides={"sizing": {"method": "fixed_notional"}})
    lacking = "bear_quiet, bear_volatile, bull_quiet, bull_volatile, sideways_volatile"
    with pytest.raises(ConfigError, match=f"sizing.regime_scales lacks {lacking}"):
        load_config("dev", overrides={"sizing": {"regime_scales": {"sideways_quiet": 1}}})
    with pytest.raises(ConfigError, match="risk.max_leverage 2 exceeds the limits file's max_leverage 1"):
        load_config("dev", overrides={"risk": {"max_leverage": 2}})


def test_a_profile_without_limits_file_takes_any_symbol(clean_env: dict[str, str]) -> None:
    config = load_config(
        "dev", overrides={"risk": {"limits_file": None, "max_position_size": {}}, "symbols": ["PEPE-USD"]}
    )
    assert config.risk_limits is None


def test_risk_limits_from_a_user_file(clean_env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("max_leverage: 2\nsymbols:\n  PEPE-USD: {max_notional: 50, max_leverage: 2}\n")
    config = load_config(
        "dev",
        overrides={
            "risk": {"limits_file": str(path), "max_position_size": {}, "max_leverage": 2},
            "symbols": ["PEPE-USD"],
        },
    )
    assert config.risk_limits is not None
    assert config.risk_limits.name == "mine"


def test_bad_risk_limits_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown limits 'top5'; packaged: spot_top10"):
        load_risk_limits("top5")
    with pytest.raises(ConfigError, match="does not exist"):
        load_risk_limits(str(tmp_path / "missing.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("max_leverage: 1\nsymbols:\n  BTC-USD: {max_notional: -1, cap: 3}\n")
    with pytest.raises(ConfigError) as info:
        load_risk_limits(str(bad))
    assert "symbols.BTC-USD.max_notional = -1: Input should be greater than 0" in str(info.value)
    assert "symbols.BTC-USD.cap: unknown key; allowed keys: max_leverage, max_notional" in str(info.value)
    over = tmp_path / "over.yaml"
    over.write_text("max_leverage: 1\nsymbols:\n  BTC-USD: {max_notional: 1, max_leverage: 3}\n")
    with pytest.raises(ConfigError, match="symbols.BTC-USD.max_leverage 3 exceeds max_leverage 1"):
        load_risk_limits(str(over))
