"""The hardened feed: verified TLS, callbacks that cannot kill it, gap and reconnect resyncs, a watchdog."""

import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from coinbase.websocket import WSClientException

from gpttrader.app import ApplicationContainer
from gpttrader.brokers.coinbase import CoinbaseStream, create_stream
from gpttrader.brokers.coinbase.mapping import ticker_quote
from gpttrader.config import BotConfig
from gpttrader.domain import OrderRequest, OrderStatus, OrderType, Side
from gpttrader.sandbox import RunningSandbox
from gpttrader.sandbox.feed import FeedTiming
from gpttrader.sandbox.tls import make_self_signed
from tests.integration.coinbase.conftest import config_for
from tests.integration.sandbox.conftest import SandboxFactory, admin
from tests.waiting import wait_for


class Recorder:
    def __init__(self, fail_first: int = 0) -> None:
        self.messages: list[dict[str, Any]] = []
        self.resyncs: list[str] = []
        self.fail_first = fail_first
        self.lock = threading.Lock()

    def message(self, message: dict[str, Any]) -> None:
        with self.lock:
            self.messages.append(message)
            if len(self.messages) <= self.fail_first:
                raise RuntimeError("a handler bug")

    def resync(self, reason: str) -> None:
        with self.lock:
            self.resyncs.append(reason)

    def channel(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.messages if m.get("channel") == name]


def stream(config: BotConfig, recorder: Recorder, heartbeat_timeout: float = 10.0) -> CoinbaseStream:
    return create_stream(
        config, on_message=recorder.message, on_resync=recorder.resync, heartbeat_timeout=heartbeat_timeout
    )


def test_tickers_become_quotes_and_handler_errors_do_not_stop_the_feed(config: BotConfig) -> None:
    recorder = Recorder(fail_first=3)
    feed = stream(config, recorder)
    feed.start(["BTC-USD"], ["ticker"])
    try:
        wait_for(lambda: len(recorder.channel("heartbeats")) >= 3)
    finally:
        feed.stop()
    assert feed.health.callback_errors == 3
    assert feed.health.gaps == 0
    ticker = recorder.channel("ticker")[0]
    quote = ticker_quote(ticker["events"][0]["tickers"][0], datetime.now(UTC))
    assert quote.product_id == "BTC-USD"
    assert quote.bid < quote.ask
    assert isinstance(quote.last, Decimal)


def test_a_certificate_that_is_not_trusted_is_refused(
    sandbox: RunningSandbox, config: BotConfig, tmp_path: Path
) -> None:
    other_cert, _ = make_self_signed(tmp_path / "other")
    untrusted = config.model_copy(
        update={"coinbase": config.coinbase.model_copy(update={"sandbox_certificate": other_cert})}
    )
    feed = stream(untrusted, Recorder())
    threads = threading.active_count()
    for _ in range(3):
        with pytest.raises(WSClientException, match="CERTIFICATE_VERIFY_FAILED"):
            feed.start(["BTC-USD"], ["ticker"])
    assert threading.active_count() == threads, "failed connection attempts left threads behind"


def test_a_dropped_socket_reconnects_and_missed_fills_come_back_by_rest(
    start_sandbox: SandboxFactory, clean_env: dict[str, str]
) -> None:
    # User updates go out only every 5 s here: the fill is not yet reported when the socket drops, and
    # the snapshot after reconnecting lists open orders only, so only the REST resync can recover it.
    sandbox = start_sandbox(feed_timing=FeedTiming(tick=5.0, heartbeat=1.0))
    config = config_for(sandbox, clean_env)
    with ApplicationContainer(config) as app:
        recovered = threading.Event()

        def resync(reason: str) -> None:
            for order in app.orders_store.open_orders():
                if app.order_executor.refresh(order.client_order_id).status is OrderStatus.FILLED:
                    recovered.set()

        feed = create_stream(config, on_message=lambda m: None, on_resync=resync)
        feed.start(["BTC-USD"], ["user"])
        try:
            wait_for(lambda: feed.health.messages >= 2)
            bid = app.coinbase_broker.quote("BTC-USD").bid
            limit = (bid * Decimal("0.998")).quantize(Decimal("0.01"))
            app.order_executor.submit(
                OrderRequest("d-1", "BTC-USD", Side.BUY, OrderType.LIMIT, Decimal("0.01"), limit_price=limit)
            )
            for _ in range(3 * 24 * 60):
                admin(sandbox, advance_minutes=1)
                if app.coinbase_broker.list_orders(open_only=True) == []:
                    break
            sandbox.drop_websockets()
            assert recovered.wait(30), "no resync recovered the fill"
        finally:
            feed.stop()
        order = app.orders_store.get("d-1")
        assert order is not None
        assert order.status is OrderStatus.FILLED
        assert sum(f.size for f in app.orders_store.fills("d-1")) == Decimal("0.01")
        assert feed.health.connections >= 2


def test_a_silent_connection_is_reconnected_by_the_watchdog(
    start_sandbox: SandboxFactory, clean_env: dict[str, str]
) -> None:
    sandbox = start_sandbox(feed_timing=FeedTiming(heartbeat=60.0))  # one heartbeat, then silence
    recorder = Recorder()
    feed = stream(config_for(sandbox, clean_env), recorder, heartbeat_timeout=1.0)
    feed.start([], [])
    try:
        wait_for(lambda: feed.health.watchdog_reconnects >= 1, timeout=10)
        wait_for(lambda: "reconnected" in recorder.resyncs)
    finally:
        feed.stop()
    assert feed.health.connections >= 2


def test_a_sequence_gap_triggers_a_resync(config: BotConfig) -> None:
    recorder = Recorder()
    feed = stream(config, recorder)
    feed._opened()  # a connection as the SDK reports it, then messages fed as the SDK would
    for sequence in (0, 1, 2, 5, 6):
        feed._handle(f'{{"channel": "heartbeats", "sequence_num": {sequence}, "events": []}}')
    feed._handle("not json at all")
    wait_for(lambda: recorder.resyncs == ["sequence gap before 5"])
    assert feed.health.gaps == 1
    assert feed.health.callback_errors == 1
    assert len(recorder.messages) == 5
    feed.stop()


def test_after_the_sdk_reconnects_every_channel_is_back_without_the_watchdog(
    config: BotConfig, sandbox: RunningSandbox
) -> None:
    recorder = Recorder()
    feed = stream(config, recorder, heartbeat_timeout=60.0)  # the watchdog stays out of it
    feed.start(["BTC-USD"], ["user"])
    try:
        wait_for(lambda: len(recorder.channel("heartbeats")) >= 1 and len(recorder.channel("user")) >= 1)
        users = len(recorder.channel("user"))
        sandbox.drop_websockets()
        wait_for(lambda: feed.health.connections >= 2)
        # `user` sends a snapshot only when subscribed: a second one proves the resubscription.
        wait_for(lambda: len(recorder.channel("user")) > users)
        heartbeats = len(recorder.channel("heartbeats"))
        wait_for(lambda: len(recorder.channel("heartbeats")) > heartbeats)
    finally:
        feed.stop()
    assert feed.health.watchdog_reconnects == 0
