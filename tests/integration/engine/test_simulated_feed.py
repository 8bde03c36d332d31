"""Simulated sessions on the feed path live sessions take: the dev and paper brokers stream typed order
updates and fills for the bot's orders, they wake the loop, and each fill is booked once (by REST, by trade
id); the paper broker's quotes come from its market's WebSocket ticker alongside."""

import threading
from decimal import Decimal
from pathlib import Path

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.domain import OrderStatus, Side
from gpttrader.domain.stream import FillEvent, OrderUpdateEvent, QuoteEvent, ResyncEvent, StreamEvent, TradeEvent
from gpttrader.engine.bot import TradingBot
from gpttrader.sandbox import RunningSandbox
from tests.integration.engine.dev_sessions import container
from tests.integration.engine.sessions import paper_config
from tests.integration.engine.strategies import BuyBtcEveryBar

TYPED = (QuoteEvent, TradeEvent, OrderUpdateEvent, FillEvent, ResyncEvent)


def watch(bot: TradingBot) -> list[tuple[StreamEvent, bool]]:
    """Each event the bot's broker streams to it, and whether it woke the engine's loop (read under a lock:
    the feed's threads and the loop's may both deliver)."""
    seen: list[tuple[StreamEvent, bool]] = []
    handle, wake = bot.feed.on_event, bot.feed._wake  # the loop's wake-up, as the bot gave its feed
    lock = threading.Lock()

    def tee(event: StreamEvent) -> None:
        with lock:
            wake.clear()
            handle(event)
            seen.append((event, wake.is_set()))

    bot.feed.on_event = tee  # type: ignore[method-assign]  # the sink the bot hands its broker's stream
    return seen


def test_a_dev_session_streams_its_orders_updates_and_fills_and_books_each_fill_once(tmp_path: Path) -> None:
    with container(tmp_path) as c:
        bot = c.create_bot(BuyBtcEveryBar())
        seen = watch(bot)
        bot.bootstrap()
        bot.run(max_cycles=8)
        bot.shutdown()
        booked = c.orders_store.fills()
        sent = {o.client_order_id: o for o in c.broker.list_orders()}
        held = bot.execution.portfolio.size("BTC-USD")
        again = [c.orders_store.add_fill(fill) for fill in booked]  # as a second read of the same fills would

    events = [event for event, _ in seen]
    assert all(isinstance(event, TYPED) for event in events)  # never a venue's dict or JSON
    updates = [e for e in events if isinstance(e, OrderUpdateEvent)]
    streamed = [e for e in events if isinstance(e, FillEvent)]
    assert sent, "the session should trade"
    assert {u.client_order_id for u in updates} == set(sent)
    for client_order_id, order in sent.items():
        last = [u for u in updates if u.client_order_id == client_order_id][-1]
        assert (last.status, last.filled_size, last.fees) == (order.status, order.filled_size, order.fees)
    assert {o.status for o in sent.values()} == {OrderStatus.FILLED}
    assert all(woke for event, woke in seen if isinstance(event, (OrderUpdateEvent, FillEvent)))
    assert {q.product_id for q in events if isinstance(q, QuoteEvent)} == {"BTC-USD", "ETH-USD"}
    # Streamed and read by REST, each fill is booked once, by its trade id.
    assert sorted(f.trade_id for f in booked) == sorted(e.trade_id or "" for e in streamed)
    assert [(e.size, e.price, e.fee) for e in sorted(streamed, key=lambda e: e.trade_id or "")] == [
        (f.size, f.price, f.fee) for f in sorted(booked, key=lambda f: f.trade_id)
    ]
    assert again == [False] * len(booked)
    assert held == sum(f.size for f in booked if f.side is Side.BUY)


def test_a_paper_session_streams_its_orders_beside_its_markets_ticker(market: RunningSandbox, tmp_path: Path) -> None:
    config = paper_config(market, tmp_path, coinbase={"public_requests_per_second": 1000, "websocket": True})
    with ApplicationContainer(config, clock=SandboxClock(market)) as c:
        bot = c.create_bot(BuyBtcEveryBar())
        seen = watch(bot)
        bot.bootstrap()
        bot.run(max_cycles=5)
        bot.shutdown()
        sent = {o.client_order_id for o in c.broker.list_orders()}
        booked = sorted(f.trade_id for f in c.orders_store.fills())
    events = [event for event, _ in seen]
    assert all(isinstance(event, TYPED) for event in events)
    assert sent, "the session should trade"
    assert {e.client_order_id for e in events if isinstance(e, OrderUpdateEvent)} == sent
    assert sorted(e.trade_id or "" for e in events if isinstance(e, FillEvent)) == booked
    assert all(woke for event, woke in seen if isinstance(event, (OrderUpdateEvent, FillEvent)))
    ticks = [e for e in events if isinstance(e, QuoteEvent)]  # the sandbox's ticker, read by the Coinbase stream
    assert {q.product_id for q in ticks} <= set(config.symbols)
    assert ticks, "the market's ticker should stream"
    assert all(isinstance(q.price, Decimal) for q in ticks)
