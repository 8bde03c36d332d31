"""Client order ids: one prefix per bot, within Coinbase's 128 characters, checked before anything is sent."""

from datetime import UTC, datetime

import pytest

from gpttrader.config import ConfigError, load_config
from gpttrader.config.strategy_params import STRATEGY_PARAMETERS
from gpttrader.domain.client_ids import MAX_LENGTH, ClientIdError, ClientIds

BAR = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def test_every_id_starts_with_the_prefix_and_only_its_own_are_owned() -> None:
    canary, prod = ClientIds("canary"), ClientIds("prod")
    entry = canary.decision("BTC-USD", BAR, "baseline", 0)
    made = [entry, canary.exit(entry, 1), canary.kill("BTC-USD", "kill7", 0), canary.manual("a1")]
    assert made == [
        "canary-BTC-USD-20261124T140000-baseline-0",
        "canary-BTC-USD-20261124T140000-baseline-0-x1",
        "canary-BTC-USD-kill7-0",
        "canary-cli-a1",
    ]
    assert all(canary.owns(cid) and not prod.owns(cid) for cid in made)
    assert entry != prod.decision("BTC-USD", BAR, "baseline", 0)  # two bots on one bar: two orders
    assert not ClientIds("can").owns(entry)  # a prefix that starts another's owns none of its orders
    assert not canary.owns("BTC-USD-20261124T1400-baseline-0")  # an id of the old scheme, or a person's


def test_the_bar_a_decided_order_or_its_exit_was_decided_on_is_read_back() -> None:
    ids = ClientIds("bt")
    entry = ids.decision("ETH-USD", BAR, "ma_cross", 2)
    assert ids.bar_time(entry, "ETH-USD") == ids.bar_time(ids.exit(entry, 1), "ETH-USD") == BAR
    assert ids.bar_time(entry, "BTC-USD") is None  # another product's
    assert ids.bar_time(ids.kill("ETH-USD", "kill1", 0), "ETH-USD") is None
    assert ids.bar_time(ClientIds("canary").decision("ETH-USD", BAR, "ma_cross", 0), "ETH-USD") is None


def test_a_kill_id_starts_with_its_stem() -> None:
    ids = ClientIds("prod")
    assert ids.kill("ETH-USD", "close-20261124T140000", 3).startswith(ids.kill_stem("ETH-USD", "close-20261124T140000"))


def test_an_id_over_coinbases_limit_is_refused_naming_its_length() -> None:
    ids = ClientIds("p" * 32)
    fits = ids.manual("x" * (MAX_LENGTH - len("p" * 32 + "-cli-")))
    assert len(fits) == MAX_LENGTH
    with pytest.raises(ClientIdError, match=f"has {MAX_LENGTH + 1} characters; Coinbase takes at most {MAX_LENGTH}"):
        ids.exit(fits[:-2], 1)  # "-x1" adds three


@pytest.mark.parametrize("prefix", ["can-ary", "", "p" * 33, "prod/1", "prod "])
def test_a_prefix_that_could_collide_is_refused(prefix: str) -> None:
    with pytest.raises(ClientIdError, match="letters, digits or underscores"):
        ClientIds(prefix)


def test_the_profile_is_the_default_prefix(clean_env: dict[str, str]) -> None:
    assert load_config("canary").client_ids == ClientIds("canary")
    configured = load_config("prod", overrides={"execution": {"client_id_prefix": "prod_eu"}})
    assert configured.client_ids == ClientIds("prod_eu")


def test_a_config_with_a_prefix_with_a_hyphen_is_refused_naming_the_field(clean_env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="execution.client_id_prefix = 'prod-eu': must be 1 to 32 letters"):
        load_config("prod", overrides={"execution": {"client_id_prefix": "prod-eu"}})


def test_a_config_whose_ids_would_be_too_long_is_refused_naming_the_field(
    clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    long_name = "s" * 80  # a strategy registered under a long name
    monkeypatch.setitem(STRATEGY_PARAMETERS, long_name, STRATEGY_PARAMETERS["baseline"])
    with pytest.raises(ConfigError, match=r"strategy.name = 's+': client order ids would reach 1\d\d characters"):
        load_config("canary", overrides={"strategy": {"name": long_name}, "execution": {"client_id_prefix": "p" * 32}})
    assert load_config("canary", overrides={"strategy": {"name": long_name}}).client_ids == ClientIds("canary")
