"""Every entry point takes a symbol in any accepted form (btc-usd, BTC/USD, BTCUSD) as Coinbase's id: the
profile's `symbols` and `risk.max_position_size`, the command line's `--product`, notebook parameters, the
panel; and where the listing is known (the dev market at the bot's start, the backtest's data) an unknown
one is refused naming the nearest listed ids and the field it came from."""

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import gpttrader.app.commands.backtest as backtest_command
from gpttrader.app import ApplicationContainer
from gpttrader.app.cli import _parser, main
from gpttrader.app.launch import launch
from gpttrader.config import ConfigError, load_config
from gpttrader.engine.listing import UnlistedSymbolError
from gpttrader.runs.parameters import ParameterError, check_parameters

NOTEBOOKS = Path(__file__).resolve().parents[3] / "notebooks"


def test_the_profile_normalizes_symbols_and_position_size_keys(clean_env: dict[str, str]) -> None:
    config = load_config(
        "canary",
        overrides={"symbols": ["btc/usd", " eth_usd "], "risk": {"max_position_size": {"btcusd": "0.01"}}},
    )
    assert config.symbols == ("BTC-USD", "ETH-USD")
    assert config.risk.max_position_size == {"BTC-USD": Decimal("0.01")}


def test_the_profile_names_the_bad_entry(clean_env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=r"symbols\.1 = 'bitcoin': 'bitcoin' is not a product id like BTC-USD"):
        load_config("dev", overrides={"symbols": ["ETH-USD", "bitcoin"]})
    with pytest.raises(ConfigError, match=r"symbols must not repeat \(normalized: BTC-USD, BTC-USD\)"):
        load_config("dev", overrides={"symbols": ["btc-usd", "BTCUSD"]})
    with pytest.raises(ConfigError, match=r"risk\.max_position_size\.btc = 'btc': 'btc' is not a product id"):
        load_config("canary", overrides={"risk": {"max_position_size": {"btc": 1}}})
    with pytest.raises(ConfigError, match=r"risk\.max_position_size\.BTCUSD = 'BTCUSD': names BTC-USD a second time"):
        load_config("canary", overrides={"risk": {"max_position_size": {"btc-usd": 1, "BTCUSD": 2}}})


def test_command_line_products_are_normalized(clean_env: dict[str, str]) -> None:
    parsed = _parser("order").parse_args(["order", "place", "--product", "eth/usd", "--side", "buy", "--size", "1"])
    assert parsed.product == "ETH-USD"
    parsed = _parser("sandbox").parse_args(["sandbox", "--candles", "solusd=sol.parquet"])
    assert parsed.candles == [("SOL-USD", Path("sol.parquet"))]


def test_a_bad_product_argument_is_refused_naming_the_option(
    clean_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["backtest", "--strategy", "ma_cross", "--product", "bitcoin"])
    assert exited.value.code == 2
    assert "argument --product: 'bitcoin' is not a product id like BTC-USD" in capsys.readouterr().err


def test_the_backtest_refuses_a_product_its_data_lacks_naming_the_nearest(
    clean_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["backtest", "--strategy", "ma_cross", "--product", "xbt-usd"]) == 2
    assert capsys.readouterr().err == (
        "gpttrader: error: argument --product: XBT-USD is not listed by the sample data; "
        "nearest listed: BTC-USD, ETH-USD, SOL-USD\n"
    )


def test_the_backtest_loads_the_normalized_product_and_prices_fees_from_the_profile(
    clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, Any] = {}

    def load_candles(product: str, *args: Any, **kwargs: Any) -> str:
        seen.setdefault("products", []).append(product)
        return product

    def run_backtest(*args: Any, **kwargs: Any) -> None:
        seen["fees"] = kwargs["fill_model"].fees
        raise ValueError("stopped by the test")

    monkeypatch.setattr(backtest_command, "load_candles", load_candles)
    monkeypatch.setattr(backtest_command, "run_backtest", run_backtest)
    argv = ["backtest", "--strategy", "ma_cross", "--param", "fast=2", "--param", "slow=3", "--product", "btcusd"]
    assert main([*argv, "--product", "ETH/USD"]) == 2
    assert seen["products"] == ["BTC-USD", "ETH-USD"]
    assert (seen["fees"].maker, seen["fees"].taker) == (Decimal("0.004"), Decimal("0.006"))  # dev's paper rates
    assert main([*argv, "--fee", "0.001"]) == 2
    assert (seen["fees"].maker, seen["fees"].taker) == (Decimal("0.001"), Decimal("0.001"))


def test_notebook_parameters_naming_products_are_normalized() -> None:
    checked = check_parameters(NOTEBOOKS / "research.ipynb", {"products": ["btc/usd", "ETHUSD"], "fee": 0.001})
    assert checked["products"] == ["BTC-USD", "ETH-USD"]
    assert check_parameters(NOTEBOOKS / "paper_trading.ipynb", {"symbols": ["sol_usd"]}) == {"symbols": ["SOL-USD"]}
    with pytest.raises(ParameterError, match=r"products = \['bitcoin'\]: 'bitcoin' is not a product id like"):
        check_parameters(NOTEBOOKS / "research.ipynb", {"products": ["bitcoin"]})


def test_the_panel_launches_on_normalized_symbols(clean_env: dict[str, str]) -> None:
    launched = launch("dev", "deterministic", pace_seconds=0.0, overrides={"symbols": ["eth/usd", "btcusd"]})
    try:
        assert launched.container.config.symbols == ("ETH-USD", "BTC-USD")
    finally:
        launched.close()


def test_the_bot_start_refuses_a_symbol_its_market_does_not_list(clean_env: dict[str, str]) -> None:
    # No limits file: the configuration could only check the form; the dev market knows what it lists.
    config = load_config("dev", overrides={"symbols": ["btc-usd", "xbtusd"], "risk": {"limits_file": None}})
    assert config.symbols == ("BTC-USD", "XBT-USD")
    with ApplicationContainer(config) as container, pytest.raises(UnlistedSymbolError) as refused:
        container.create_bot().prepare()
    assert str(refused.value).startswith("symbols: XBT-USD is not listed by the dev market; nearest listed: BTC-USD")
