"""The impact check walks the book only for orders that add risk: an exit goes out while the book endpoint
fails (found by a red-team pass, when every order needed the book)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.brokers.errors import ExchangeUnavailableError
from gpttrader.config import load_config
from gpttrader.domain import OrderRequest, OrderType, Side
from gpttrader.engine.clock import FastClock

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("book_down", [False, True], ids=["control_book_up", "book_down"])
def test_an_order_that_only_reduces_goes_out_without_the_book(tmp_path: Path, book_down: bool) -> None:
    overrides = {"data_dir": tmp_path, "symbols": ["BTC-USD", "ETH-USD"]}
    with ApplicationContainer(load_config("dev", overrides=overrides, env={}), clock=FastClock(START)) as container:
        bot = container.create_bot()
        bot.bootstrap()
        bot.run(max_cycles=60)
        execution = bot.execution
        held = {pid: execution.portfolio.size(pid) for pid in bot.products}
        pid, size = max(held.items(), key=lambda kv: kv[1])
        assert size > 0, f"the session holds nothing to exit: {held}"
        product = bot.products[pid]

        def down(product_id: str, levels: int):
            raise ExchangeUnavailableError("product book: 503")

        if book_down:
            execution.executor.order_book = down
        now = bot.clock.now()
        bar = (now - timedelta(minutes=1)).replace(second=0, microsecond=0)
        cid = execution.ids.decision(pid, bar, bot.strategy.name, 0)
        exit_order = OrderRequest(cid, pid, Side.SELL, OrderType.MARKET, size)
        mark = execution.marks.price(pid)
        sent = execution._send(execution._executable(exit_order, product, mark), product, mark, now, None)
        bot.shutdown()
    assert sent, "a sell of the whole position (reducing: the impact check skips it) was not sent: the book read failed"
