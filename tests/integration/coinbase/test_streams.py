"""The hardened feed: verified TLS, callbacks that cannot kill it, gap and reconnect resyncs, a watchdog."""

import threading
from decimal import Decimal
from pathlib import Path

import pytest
from coinbase.websocket import WSClientException

from gpttrader.app import ApplicationContainer
from gpttrader.brokers.coinbase import CoinbaseStream, create_stream
from gpttrader.config import BotConfig
from gpttrader.domain import OrderRequest, OrderStatus, OrderType, Side
from gpttrader.domain.stream import QuoteEvent, ResyncEvent, StreamEvent
from gpttrader.sandbox import RunningSandbox
from gpttrader.sandbox.feed import FeedTiming
from gpttrader.sandbox.tls import make_self_signed
from tests.integration.coinbase.conftest import config_for
from tests.integration.sandbox.conftest import SandboxFactory, admin
from tests.waiting import wait_for


class Recorder:
    """The stream's sink: typed events only (resyncs apart)."""

    def __init__(self, fail_first: int = 0) -> None:
        self.events: list[StreamEvent] = []
        self.resyncs: list[str] = []
        self.fail_first = fail_first
        self.lock = threading.Lock()

    def event(self, event: StreamEvent) -> None:
        with self.lock:
            if isinstance(event, ResyncEvent):
                self.resyncs.append(event.reason)
                return
            self.events.append(event)
            if len(self.events) <= self.fail_first:
                raise RuntimeError("a handler bug")

    def quotes(self) -> list[QuoteEvent]:
        with self.lock:
            return [e for e in self.events if isinstance(e, QuoteEvent)]


def stream(config: BotConfig, recorder: Recorder, heartbeat_timeout: float = 10.0) -> CoinbaseStream:
    return create_stream(config, on_event=recorder.event, heartbeat_timeout=heartbeat_timeout)


def test_tickers_become_quotes_and_handler_errors_do_not_stop_the_feed(config: BotConfig) -> None:
    recorder = Recorder(fail_first=2)
    feed = stream(config, recorder)
    feed.start(["BTC-USD", "ETH-USD", "SOL-USD"], ["ticker"])  # a snapshot of three quotes: two are refused
    try:
        wait_for(lambda: len(recorder.quotes()) >= 3 and feed.health.channels.get("heartbeats", 0) >= 3)
    finally:
        feed.stop()
    assert feed.health.callback_errors == 2
    assert [q.product_id for q in recorder.quotes()[:3]] == ["BTC-USD", "ETH-USD", "SOL-USD"]
    assert feed.health.gaps == 0
    assert feed.health.malformed == 0
    quote = recorder.quotes()[0]
    assert quote.product_id == "BTC-USD"
    assert quote.bid is not None
    assert quote.ask is not None
    assert quote.bid < quote.ask
    assert isinstance(quote.price, Decimal)
    assert quote.time.utcoffset() is not None


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

        def on_event(event: StreamEvent) -> None:
            if isinstance(event, ResyncEvent):
                resync(event.reason)

        feed = create_stream(config, on_event=on_event)
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
    wait_for(lambda: len(recorder.resyncs) == 2)
    assert recorder.resyncs[0] == "sequence gap before 5"
    assert recorder.resyncs[1].startswith("malformed message: not JSON")
    assert feed.health.gaps == 1
    assert feed.health.malformed == 1
    assert feed.health.callback_errors == 0
    assert feed.health.channels == {"heartbeats": 5}
    assert recorder.events == []  # heartbeats are counted, never delivered
    feed.stop()


def test_after_the_sdk_reconnects_every_channel_is_back_without_the_watchdog(
    config: BotConfig, sandbox: RunningSandbox
) -> None:
    recorder = Recorder()
    feed = stream(config, recorder, heartbeat_timeout=60.0)  # the watchdog stays out of it
    feed.start(["BTC-USD"], ["user"])
    try:
        channels = feed.health.channels
        wait_for(lambda: channels.get("heartbeats", 0) >= 1 and channels.get("user", 0) >= 1)
        users = channels["user"]
        sandbox.drop_websockets()
        wait_for(lambda: feed.health.connections >= 2)
        # `user` sends a snapshot only when subscribed: a second one proves the resubscription.
        wait_for(lambda: channels.get("user", 0) > users)
        heartbeats = channels["heartbeats"]
        wait_for(lambda: channels.get("heartbeats", 0) > heartbeats)
    finally:
        feed.stop()
    assert feed.health.watchdog_reconnects == 0
