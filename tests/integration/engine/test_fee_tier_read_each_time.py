"""The fee tier calls the broker at each read, not a method kept from the bot's construction, so a broker
replaced or patched afterwards (as `test_fee_tier.py` does to make a read fail) is the one read."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.brokers.errors import ExchangeUnavailableError
from gpttrader.config import load_config
from gpttrader.engine.clock import FastClock

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_the_fee_tier_reads_the_brokers_rates_at_each_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    overrides = {"data_dir": tmp_path, "symbols": ["BTC-USD"]}
    with ApplicationContainer(load_config("dev", overrides=overrides, env={}), clock=FastClock(START)) as container:
        bot = container.create_bot()

        def unavailable() -> None:
            raise ExchangeUnavailableError("transaction summary: 503")

        monkeypatch.setattr(container.broker, "fee_rates", unavailable)
        with pytest.raises(ExchangeUnavailableError):
            bot.fee_tier.refresh(START + timedelta(hours=1))
