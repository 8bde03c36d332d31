"""The Coinbase WebSocket feed through the SDK's WSClient, made safe to build a trading bot on.

The SDK leaves five gaps that this closes:
- an exception raised in `on_message` silently ends the SDK's message loop: every message is handled
  inside a catch-all here, counted and logged, and never reaches the SDK's loop;
- it does not notice a connection that stays open but goes silent: a watchdog reconnects when nothing
  (not even a heartbeat) arrived for `heartbeat_timeout` seconds;
- after reconnecting by itself it resubscribes only channels subscribed with product ids: every channel
  is subscribed with them here;
- it cannot know what was missed while it reconnected, or when a message was skipped: every reconnect,
  every sequence gap and every message that cannot be read sends a ResyncEvent, where the caller re-reads
  state by REST;
- its `wss://` connections do not verify certificates: this client does.
The caller gets typed events only (`stream_mapping` reads the JSON), on the SDK's message thread; resyncs
go out on their own worker thread, so slow REST calls made for them never stall the message loop.
"""

import asyncio
import logging
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import websockets
from coinbase.constants import USER_AGENT
from coinbase.websocket import WSClient, WSClientException

from gpttrader.brokers.coinbase.stream_mapping import StreamDecoder
from gpttrader.brokers.errors import MalformedAnswerError
from gpttrader.config.secrets import Credentials
from gpttrader.domain.stream import ResyncEvent, StreamEvent

log = logging.getLogger(__name__)


class _VerifyingWSClient(WSClient):  # type: ignore[misc]
    """The SDK's client with one change: `wss://` connections verify the server's certificate.

    `open_async` follows the SDK's own (coinbase-advanced-py 1.8.4) except for the `ssl` argument.
    """

    websocket: Any

    def __init__(self, *args: Any, ssl_context: ssl.SSLContext, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ssl_context = ssl_context

    async def open_async(self) -> None:
        self._ensure_websocket_not_open()
        try:
            self.websocket = await websockets.connect(
                self.base_url,
                open_timeout=self.timeout,
                max_size=self.max_size,
                user_agent_header=USER_AGENT,
                extra_headers=self._set_headers(),
                ssl=self._ssl_context if self.base_url.startswith("wss://") else None,
            )
            if self.on_open:
                self.on_open()
            if not self._retrying:
                self._task = asyncio.create_task(self._message_handler())
        except TimeoutError as exc:
            self.websocket = None
            raise WSClientException("Connection attempt timed out") from exc
        except (websockets.exceptions.WebSocketException, OSError) as exc:
            self.websocket = None
            raise WSClientException(f"Failed to establish WebSocket connection: {exc}") from exc


@dataclass
class StreamHealth:
    connected: bool = False
    connections: int = 0
    messages: int = 0
    gaps: int = 0
    watchdog_reconnects: int = 0
    callback_errors: int = 0
    malformed: int = 0
    last_message_at: float = 0.0
    channels: dict[str, int] = field(default_factory=dict)  # messages received per channel

    def silent_for(self, now: float | None = None) -> float:
        return (time.monotonic() if now is None else now) - self.last_message_at


class CoinbaseStream:
    def __init__(
        self,
        url: str,
        credentials: Credentials | None,
        *,
        on_event: Callable[[StreamEvent], None],
        certificate: Path | None = None,
        heartbeat_timeout: float = 10.0,
    ) -> None:
        self.url = url
        self._credentials = credentials
        self._on_event = on_event
        self._ssl_context = ssl.create_default_context(cafile=str(certificate) if certificate else None)
        self.heartbeat_timeout = heartbeat_timeout
        self.health = StreamHealth()
        self._subscriptions: tuple[list[str], list[str]] = ([], [])
        self._client: _VerifyingWSClient | None = None
        self._decoder = StreamDecoder()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._resyncs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coinbase-resync")
        self._watchdog: threading.Thread | None = None

    def start(self, product_ids: Sequence[str], channels: Sequence[str]) -> None:
        """Connect and subscribe; heartbeats are always added, as the watchdog depends on them."""
        self._subscriptions = (list(product_ids), sorted({*channels, "heartbeats"}))
        self._connect()
        self._watchdog = threading.Thread(target=self._watch, name="coinbase-stream-watchdog", daemon=True)
        self._watchdog.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._watchdog is not None:
            self._watchdog.join(timeout=10)
        self._disconnect()
        self._resyncs.shutdown(wait=True)

    def _connect(self) -> None:
        key = self._credentials.api_key.reveal() if self._credentials else None
        secret = self._credentials.api_secret.reveal() if self._credentials else None
        client = _VerifyingWSClient(
            api_key=key,
            api_secret=secret,
            base_url=self.url,
            on_message=self._handle,
            on_open=self._opened,
            on_close=self._closed,
            timeout=10,
            ssl_context=self._ssl_context,
        )
        try:
            client.open()
        except WSClientException:
            # The SDK starts its event-loop thread before connecting and leaves it running on failure;
            # stop it, or every retry through an outage would leak a thread.
            if client.loop is not None and not client.loop.is_closed():
                client.loop.call_soon_threadsafe(client.loop.stop)
                client.thread.join(timeout=10)
                client.loop.close()
            raise
        with self._lock:
            self._client = client
        product_ids, channels = self._subscriptions
        # Every channel, account-wide ones (heartbeats, user) included, is subscribed with the product ids:
        # after an abnormal close the SDK resubscribes only channels it holds product ids for. On `user`
        # they also narrow the order updates to the products this stream trades.
        client.subscribe(product_ids, channels)

    def _disconnect(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is None:
            return
        try:
            client.close()
        except Exception as exc:  # a connection that is already gone cannot be closed cleanly
            log.debug("closing the feed: %s", exc)

    def _opened(self) -> None:
        with self._lock:
            self._decoder.reset()
            self.health.connected = True
            self.health.connections += 1
            self.health.last_message_at = time.monotonic()
            reconnected = self.health.connections > 1
        if reconnected:
            # Whatever happened while the connection was down is only in REST now.
            self._resync("reconnected")

    def _closed(self) -> None:
        self.health.connected = False

    def _handle(self, raw: str) -> None:
        """The SDK's on_message: nothing may escape it, or the SDK's message loop dies silently."""
        try:
            with self._lock:
                self.health.messages += 1
                self.health.last_message_at = time.monotonic()
                try:
                    channel, events = self._decoder.read(raw)
                except MalformedAnswerError as exc:
                    # What it said is unknown (an order's fill, perhaps): read everything again, as after a gap.
                    self.health.malformed += 1
                    log.warning("unreadable feed message: %s", exc)
                    self._resync(f"malformed message: {exc.detail}")
                    return
                self.health.channels[channel] = self.health.channels.get(channel, 0) + 1
        except Exception:
            self.health.callback_errors += 1
            log.exception("error reading a feed message; the feed goes on")
            return
        for event in events:
            try:
                if isinstance(event, ResyncEvent):
                    self.health.gaps += 1
                    self._resync(event.reason)
                else:
                    self._on_event(event)
            except Exception:  # one event's failure loses neither the feed nor the message's other events
                self.health.callback_errors += 1
                log.exception("error handling a feed event; the feed goes on")

    def _resync(self, reason: str) -> None:
        def run() -> None:
            try:
                self._on_event(ResyncEvent(reason, datetime.now(UTC)))
            except Exception:
                log.exception("resync after %s failed", reason)

        if not self._stopping.is_set():
            self._resyncs.submit(run)

    def _watch(self) -> None:
        while not self._stopping.wait(self.heartbeat_timeout / 4):
            if self.health.silent_for() <= self.heartbeat_timeout:
                continue
            log.warning("no feed message for %.1fs; reconnecting", self.health.silent_for())
            self.health.watchdog_reconnects += 1
            self._disconnect()
            try:
                self._connect()
            except WSClientException as exc:
                log.warning("reconnect failed: %s; the watchdog tries again", exc)
                self.health.last_message_at = time.monotonic()
