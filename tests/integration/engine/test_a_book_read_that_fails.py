"""One product's failed book read (a delisting, a 404 on one id) is an API error for the spread and depth
guards of that product only: the cycle and the other products go on. Found by a red-team pass: it once
failed every cycle and the error-rate guard halted the bot."""

from datetime import UTC, datetime
from pathlib import Path

from gpttrader.app import ApplicationContainer
from gpttrader.brokers.errors import NotFoundError
from gpttrader.config import load_config
from gpttrader.engine.clock import FastClock

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_one_products_book_read_failing_never_stops_the_others_or_the_cycle(tmp_path: Path) -> None:
    overrides = {"data_dir": tmp_path, "symbols": ["BTC-USD", "ETH-USD"]}
    with ApplicationContainer(load_config("dev", overrides=overrides, env={}), clock=FastClock(START)) as container:
        bot = container.create_bot()
        real = bot.broker.order_book

        def book(product_id: str, levels: int):
            if product_id == "ETH-USD":
                raise NotFoundError("product book ETH-USD: 404")
            return real(product_id, levels)

        bot.broker.order_book = book
        bot.bootstrap()
        bot.run(max_cycles=60)
        bot.shutdown()
        state, errors = str(container.risk_manager.state), bot.metrics.errors
    assert errors == 0, f"{errors} failed cycles over one product's book read"
    assert state == "active"
