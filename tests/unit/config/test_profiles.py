from datetime import UTC, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest

from gpttrader.config import PROFILE_NAMES, BotConfig, load_config

TOP10 = (
    "BTC-USD",
    "ETH-USD",
    "SOL-USD",
    "XRP-USD",
    "LTC-USD",
    "ADA-USD",
    "DOGE-USD",
    "BCH-USD",
    "AVAX-USD",
    "LINK-USD",
)


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_every_profile_loads_with_the_spot_limits(clean_env: dict[str, str], name: str) -> None:
    config = load_config(name)
    assert config.profile == name
    assert config.risk_limits is not None
    assert config.risk_limits.name == "spot_top10"
    assert config.credentials is None


def test_dev_profile(clean_env: dict[str, str], tmp_path: Path) -> None:
    config = load_config("dev")
    assert config.broker == "deterministic"
    assert config.symbols == TOP10
    assert config.risk.max_position_size == {"BTC-USD": Decimal("0.001")}
    assert config.log_level == "DEBUG"
    assert not config.is_live
    assert config.state_dir == tmp_path / "data" / "state" / "dev"


def test_paper_profile_has_real_data_and_simulated_fills(clean_env: dict[str, str]) -> None:
    config = load_config("paper")
    assert config.broker == "paper"
    assert not config.is_live


def test_canary_profile(clean_env: dict[str, str]) -> None:
    config = load_config("canary")
    assert config.broker == "coinbase"
    assert config.is_live
    assert config.symbols == ("BTC-USD",)
    assert config.risk.max_position_size["BTC-USD"] == Decimal("0.01")
    assert (config.guards.daily_loss.limit, config.guards.daily_loss.unit) == (Decimal("0.01"), "fraction")
    assert config.trading_window is not None
    assert (config.trading_window.start, config.trading_window.end) == (time(14), time(15))
    assert all(getattr(config.guards, name).enabled for name in type(config.guards).model_fields)
    assert config.order_limits.per_minute == 2


def test_prod_profile_sizes_with_kelly(clean_env: dict[str, str]) -> None:
    config = load_config("prod")
    assert config.is_live
    assert config.sizing.method == "kelly"
    assert config.symbols == TOP10


def test_spot_top10_limits(clean_env: dict[str, str]) -> None:
    limits = load_config("dev").risk_limits
    assert limits is not None
    assert set(limits.symbols) == set(TOP10)
    assert limits.symbols["BTC-USD"].max_notional == Decimal(10000)
    assert limits.symbols["DOGE-USD"].max_notional == Decimal(800)
    assert all(limit.max_leverage == 1 for limit in limits.symbols.values())


@pytest.mark.parametrize(
    ("moment", "inside"),
    [((13, 59, 59), False), ((14, 0, 0), True), ((14, 59, 59), True), ((15, 0, 0), False)],
)
def test_canary_trading_window_edges(clean_env: dict[str, str], moment: tuple[int, int, int], inside: bool) -> None:
    window = load_config("canary").trading_window
    assert window is not None
    assert window.contains(datetime(2026, 11, 24, *moment, tzinfo=UTC)) is inside


def test_window_across_midnight(clean_env: dict[str, str]) -> None:
    config = load_config("dev", overrides={"trading_window": {"start": "22:00", "end": "02:00"}})
    window = config.trading_window
    assert window is not None
    assert window.contains(datetime(2026, 1, 1, 23, tzinfo=UTC))
    assert window.contains(datetime(2026, 1, 2, 1, 59, tzinfo=UTC))
    assert not window.contains(datetime(2026, 1, 2, 2, tzinfo=UTC))


def test_explicit_arguments_win_over_profile(clean_env: dict[str, str]) -> None:
    overrides = {"guards": {"daily_loss": {"limit": "5", "unit": "usd"}}, "interval_seconds": 5}
    config = load_config("canary", overrides=overrides)
    assert (config.guards.daily_loss.limit, config.guards.daily_loss.unit) == (Decimal(5), "usd")
    assert config.guards.daily_loss.action == "reduce_only"  # a guard merges field by field
    assert config.guards.max_drawdown.limit == Decimal("0.02")
    assert config.interval_seconds == 5


def test_config_is_frozen(clean_env: dict[str, str]) -> None:
    config = load_config("dev")
    assert isinstance(config, BotConfig)
    with pytest.raises(ValueError, match="frozen"):
        config.broker = "coinbase"  # type: ignore[misc]
