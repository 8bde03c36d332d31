"""The start-up seed backtest prices its trips at the account's fee tier, read before it runs, not the
profile's rate: a cheaper rate would flatter every trip and size Kelly too large (found by a red-team pass)."""

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from gpttrader.app import ApplicationContainer
from gpttrader.backtest.seed import seed_trips
from gpttrader.brokers.protocol import FeeRates
from gpttrader.config import load_config
from gpttrader.domain import Product
from gpttrader.engine.clock import FastClock

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ACCOUNT = FeeRates("Intro 1", Decimal("0.006"), Decimal("0.012"))


def test_the_seed_is_priced_at_the_accounts_fee_tier(tmp_path: Path) -> None:
    seen: list[Decimal] = []

    def recording(strategy: Any, candles: Mapping[str, pd.DataFrame], products: Mapping[str, Product], fee: Decimal):
        seen.append(fee)
        return seed_trips(strategy, candles, products, fee)

    overrides = {"data_dir": tmp_path, "symbols": ["BTC-USD"], "sizing": {"method": "kelly"}}
    with ApplicationContainer(load_config("dev", overrides=overrides, env={}), clock=FastClock(START)) as container:
        bot = container.create_bot()
        bot.fee_tier._read = lambda: ACCOUNT  # what the account's transaction summary says
        container.risk_manager.edge_seed = recording
        bot.bootstrap()
        bot.run(max_cycles=2)
        live_rate = bot.execution.fee_rate
        bot.shutdown()
    assert live_rate == ACCOUNT.taker  # the live bot prices at the tier from its first cycle on
    assert seen == [ACCOUNT.taker], f"the seed backtest was priced at {seen}, the account pays {ACCOUNT.taker}"
