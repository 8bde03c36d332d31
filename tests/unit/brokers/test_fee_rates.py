"""Fee rates as each broker reports them: Coinbase's transaction summary read strictly, a simulated venue's
its own schedule (the profile's `paper` rates in dev and paper)."""

from decimal import Decimal
from typing import Any

import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.brokers.coinbase import mapping
from gpttrader.brokers.errors import MalformedAnswerError
from gpttrader.brokers.protocol import FeeRates
from gpttrader.brokers.simulated import FeeSchedule
from gpttrader.config import ConfigError, load_config

SUMMARY: dict[str, Any] = {
    "total_volume": 1000,
    "total_fees": 25,
    "fee_tier": {
        "pricing_tier": "Advanced 2",
        "usd_from": "10000",
        "usd_to": "50000",
        "taker_fee_rate": "0.004",
        "maker_fee_rate": "0.0025",
    },
}


def test_the_transaction_summary_gives_the_tier() -> None:
    assert mapping.fee_tier("transaction summary", SUMMARY) == FeeRates(
        "Advanced 2", Decimal("0.0025"), Decimal("0.004")
    )


@pytest.mark.parametrize(
    ("tier", "message"),
    [
        (None, "field 'fee_tier' is missing"),
        ({"pricing_tier": "x", "maker_fee_rate": "0.001"}, "field 'taker_fee_rate' is missing"),
        ({"maker_fee_rate": "lots", "taker_fee_rate": "0.001"}, "field 'maker_fee_rate' is not a number"),
        ({"maker_fee_rate": "0.001", "taker_fee_rate": "0.6"}, "'taker_fee_rate' is 0.6, not a fee rate from 0 to"),
        ({"maker_fee_rate": "-0.001", "taker_fee_rate": "0.001"}, "'maker_fee_rate' is -0.001, not a fee rate"),
    ],
)
def test_a_garbled_tier_is_malformed_never_a_default(tier: Any, message: str) -> None:
    with pytest.raises(MalformedAnswerError, match=message):
        mapping.fee_tier("transaction summary", {**SUMMARY, "fee_tier": tier})


def test_a_tier_without_its_name_is_still_read() -> None:
    rates = mapping.fee_tier("x", {"fee_tier": {"maker_fee_rate": "0", "taker_fee_rate": "0.0005"}})
    assert rates == FeeRates("unnamed tier", Decimal(0), Decimal("0.0005"))


def test_a_simulated_venue_reports_its_schedule() -> None:
    assert FeeSchedule(Decimal("0.001"), Decimal("0.002"), "VIP").rates() == FeeRates(
        "VIP", Decimal("0.001"), Decimal("0.002")
    )


def test_the_dev_broker_charges_and_reports_the_profiles_paper_rates(clean_env: dict[str, str]) -> None:
    config = load_config("dev", overrides={"paper": {"maker_fee_rate": "0.001", "taker_fee_rate": "0.0035"}})
    with ApplicationContainer(config) as container:
        assert container.broker.fee_rates() == FeeRates("profile dev", Decimal("0.001"), Decimal("0.0035"))
        bot = container.create_bot()
        assert bot.fee_rate == Decimal("0.0035")


def test_the_profiles_fee_rates_are_bounded(clean_env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=r"paper\.taker_fee_rate = '0.5'"):
        load_config("dev", overrides={"paper": {"taker_fee_rate": "0.5"}})
