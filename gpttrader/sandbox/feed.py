"""The sandbox's WebSocket feed, as Coinbase's Advanced Trade feed behaves.

A client subscribes per channel with product ids (a JWT for `user` and `futures_balance_summary`). Each
subscription is acknowledged by a `subscriptions` message listing everything the connection follows,
then answered with a snapshot; updates follow as the market moves. Every message carries the
connection's next `sequence_num`, so a client can see a gap. `level2` comes on channel `l2_data`.
"""

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

from gpttrader.domain import ProductType, Side
from gpttrader.sandbox import payloads
from gpttrader.sandbox.auth import AuthenticationFailed, TokenVerifier
from gpttrader.sandbox.derivatives_api import cfm_summary
from gpttrader.sandbox.exchange import Exchange, SandboxOrder

CHANNELS = (
    "heartbeats",
    "status",
    "ticker",
    "ticker_batch",
    "candles",
    "market_trades",
    "level2",
    "user",
    "futures_balance_summary",
)
PRIVATE = frozenset({"user", "futures_balance_summary"})
PER_PRODUCT = frozenset({"ticker", "ticker_batch", "candles", "market_trades", "level2", "status"})
BOOK_LEVELS = 20
CANDLE_SECONDS = 300


@dataclass(frozen=True)
class FeedTiming:
    tick: float = 0.1
    heartbeat: float = 1.0
    ticker_batch: float = 5.0
    candles: float = 1.0


class FeedSession:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        request: web.Request,
        exchange: Exchange,
        tokens: TokenVerifier,
        timing: FeedTiming,
    ) -> None:
        self.ws = ws
        self.request = request
        self.exchange = exchange
        self.tokens = tokens
        self.timing = timing
        self.subscriptions: dict[str, set[str]] = {}
        self.sequence = 0
        self.heartbeat_counter = 0
        self._last_ticker: dict[str, Decimal] = {}
        self._last_book: dict[str, dict[tuple[str, Decimal], Decimal]] = {}
        self._last_trade_step: dict[str, int] = {}
        self._orders_seen: dict[str, tuple[str, Decimal]] = {}
        self._due: dict[str, float] = {}
        self._balance_seen: dict[str, Any] | None = None

    def abort(self) -> None:
        """Drop the connection without a close frame: the client sees an abnormal closure (1006)."""
        if self.request.transport is not None:
            self.request.transport.abort()

    async def run(self) -> None:
        ticker = asyncio.create_task(self._tick_loop())
        try:
            async for message in self.ws:
                if message.type == WSMsgType.TEXT:
                    await self._handle(message.data)
                elif message.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
        finally:
            ticker.cancel()

    async def send(self, channel: str, events: list[dict[str, Any]]) -> None:
        if self.ws.closed:
            return
        body = {
            "channel": channel,
            "client_id": "",
            "timestamp": payloads.rfc3339(self.exchange.clock.wall.utc()),
            "sequence_num": self.sequence,
            "events": events,
        }
        self.sequence += 1
        await self.ws.send_str(json.dumps(body))

    async def _error(self, message: str) -> None:
        await self.ws.send_str(json.dumps({"type": "error", "message": message}))

    async def _handle(self, text: str) -> None:
        try:
            message = json.loads(text)
        except json.JSONDecodeError:
            await self._error("message is not JSON")
            return
        kind, channel = message.get("type"), message.get("channel")
        products = [str(p) for p in message.get("product_ids") or []]
        if kind not in ("subscribe", "unsubscribe"):
            await self._error(f"type must be subscribe or unsubscribe, got {kind!r}")
            return
        if channel not in CHANNELS:
            await self._error(f"unknown channel {channel!r}; channels: {', '.join(CHANNELS)}")
            return
        unknown = [p for p in products if not self.exchange.visible(p)]
        if unknown:
            await self._error(f"unknown product ids: {', '.join(unknown)}")
            return
        if channel in PRIVATE:
            try:
                self.tokens.websocket(str(message.get("jwt") or ""))
            except AuthenticationFailed as exc:
                await self._error(f"authentication failure: {exc}")
                return
        if kind == "unsubscribe":
            self.subscriptions.get(channel, set()).difference_update(products)
            await self._acknowledge()
            return
        self.subscriptions.setdefault(channel, set()).update(products)
        await self._acknowledge()
        await self._snapshot(channel, products)

    async def _acknowledge(self) -> None:
        current = {
            channel: sorted(products)
            for channel, products in self.subscriptions.items()
            if products or channel in ("heartbeats", "user", "futures_balance_summary")
        }
        await self.send("subscriptions", [{"subscriptions": current}])

    # -- snapshots ------------------------------------------------------------------------------------
    async def _snapshot(self, channel: str, products: list[str]) -> None:
        if channel in ("ticker", "ticker_batch"):
            if channel == "ticker":
                self._last_ticker.update({p: self.exchange.mid(p) for p in products})
            await self.send(channel, [{"type": "snapshot", "tickers": [self._ticker(p) for p in products]}])
        elif channel == "level2":
            for product_id in products:
                book = self._book(product_id)
                self._last_book[product_id] = book
                await self.send(
                    "l2_data",
                    [
                        {
                            "type": "snapshot",
                            "product_id": product_id,
                            "updates": _book_updates(book, {}, self.exchange.clock.wall.utc()),
                        }
                    ],
                )
        elif channel == "candles":
            await self.send("candles", [{"type": "snapshot", "candles": [self._candle(p) for p in products]}])
        elif channel == "market_trades":
            position = self.exchange.clock.position()
            for product_id in products:
                self._last_trade_step[product_id] = int(position * 12)
            await self.send(
                "market_trades",
                [
                    {
                        "type": "snapshot",
                        "trades": [self._trade(p, int(position * 12) - i) for p in products for i in range(5)],
                    }
                ],
            )
        elif channel == "status":
            await self.send("status", [{"type": "snapshot", "products": [self._status(p) for p in products]}])
        elif channel == "heartbeats":
            await self._heartbeat()
        elif channel == "user":
            with self.exchange.lock:
                self.exchange.advance()
                orders = [o for o in self.exchange.orders.values() if o.status == "OPEN"]
                self._orders_seen = {o.order_id: (o.status, o.filled_size) for o in self.exchange.orders.values()}
                rows = [_user_order(o) for o in orders]
            await self.send(
                "user",
                [
                    {
                        "type": "snapshot",
                        "orders": rows,
                        "positions": {"perpetual_futures_positions": [], "expiring_futures_positions": []},
                    }
                ],
            )
        elif channel == "futures_balance_summary":
            self._balance_seen = self._balance_summary()
            await self.send(channel, [{"type": "snapshot", "fcm_balance_summary": self._balance_seen}])

    # -- updates --------------------------------------------------------------------------------------
    async def _tick_loop(self) -> None:
        while not self.ws.closed:
            await asyncio.sleep(self.timing.tick)
            now = time.monotonic()
            if "heartbeats" in self.subscriptions and self._is_due("heartbeats", now, self.timing.heartbeat):
                await self._heartbeat()
            if self.subscriptions.get("ticker"):
                await self._ticker_updates()
            if self.subscriptions.get("ticker_batch") and self._is_due("ticker_batch", now, self.timing.ticker_batch):
                await self.send(
                    "ticker_batch",
                    [
                        {
                            "type": "update",
                            "tickers": [self._ticker(p) for p in sorted(self.subscriptions["ticker_batch"])],
                        }
                    ],
                )
            if self.subscriptions.get("level2"):
                await self._book_updates()
            if self.subscriptions.get("market_trades"):
                await self._trade_updates()
            if self.subscriptions.get("candles") and self._is_due("candles", now, self.timing.candles):
                await self.send(
                    "candles",
                    [{"type": "update", "candles": [self._candle(p) for p in sorted(self.subscriptions["candles"])]}],
                )
            if "user" in self.subscriptions:
                await self._user_updates()
            if "futures_balance_summary" in self.subscriptions:
                await self._balance_updates()

    def _is_due(self, what: str, now: float, every: float) -> bool:
        if now >= self._due.get(what, 0.0):
            self._due[what] = now + every
            return True
        return False

    async def _heartbeat(self) -> None:
        now = self.exchange.clock.wall.utc()
        await self.send(
            "heartbeats",
            [
                {
                    "current_time": now.strftime("%Y-%m-%d %H:%M:%S.%f000+00:00"),
                    "heartbeat_counter": self.heartbeat_counter,
                }
            ],
        )
        self.heartbeat_counter += 1

    async def _ticker_updates(self) -> None:
        changed = []
        for product_id in sorted(self.subscriptions["ticker"]):
            price = self.exchange.mid(product_id)
            if self._last_ticker.get(product_id) != price:
                self._last_ticker[product_id] = price
                changed.append(self._ticker(product_id))
        if changed:
            await self.send("ticker", [{"type": "update", "tickers": changed}])

    async def _book_updates(self) -> None:
        for product_id in sorted(self.subscriptions["level2"]):
            book = self._book(product_id)
            updates = _book_updates(book, self._last_book.get(product_id, {}), self.exchange.clock.wall.utc())
            self._last_book[product_id] = book
            if updates:
                await self.send("l2_data", [{"type": "update", "product_id": product_id, "updates": updates}])

    async def _trade_updates(self) -> None:
        step = int(self.exchange.clock.position() * 12)
        trades: list[dict[str, Any]] = []
        for product_id in sorted(self.subscriptions["market_trades"]):
            last = self._last_trade_step.get(product_id, step)
            trades.extend(self._trade(product_id, s) for s in range(max(last + 1, step - 49), step + 1))
            self._last_trade_step[product_id] = step
        if trades:
            await self.send("market_trades", [{"type": "update", "trades": trades}])

    async def _user_updates(self) -> None:
        with self.exchange.lock:
            self.exchange.advance()
            changed = []
            for order in self.exchange.orders.values():
                state = (order.status, order.filled_size)
                if self._orders_seen.get(order.order_id) != state:
                    self._orders_seen[order.order_id] = state
                    changed.append(_user_order(order))
        if changed:
            await self.send("user", [{"type": "update", "orders": changed}])

    async def _balance_updates(self) -> None:
        summary = self._balance_summary()
        if summary != self._balance_seen:
            self._balance_seen = summary
            await self.send("futures_balance_summary", [{"type": "update", "fcm_balance_summary": summary}])

    # -- message parts --------------------------------------------------------------------------------
    def _ticker(self, product_id: str) -> dict[str, Any]:
        price = self.exchange.mid(product_id)
        (bid, bid_size), (ask, ask_size) = (
            self.exchange.book(product_id, Side.BUY, 1)[0],
            self.exchange.book(product_id, Side.SELL, 1)[0],
        )
        path, clock = self.exchange.paths[product_id], self.exchange.clock
        first, high, low, _, volume = path.span(clock.position(clock.wall.now() - 86400), clock.position())
        change = (float(price) / first - 1) * 100 if first else 0.0
        quantum = self.exchange.listings[product_id].product.quote_increment
        return {
            "type": "ticker",
            "product_id": product_id,
            "price": str(price),
            "volume_24_h": f"{volume:.8f}",
            "low_24_h": str(Decimal(repr(low)).quantize(quantum)),
            "high_24_h": str(Decimal(repr(high)).quantize(quantum)),
            "low_52_w": "",
            "high_52_w": "",
            "price_percent_chg_24_h": f"{change:.4f}",
            "best_bid": str(bid),
            "best_bid_quantity": str(bid_size),
            "best_ask": str(ask),
            "best_ask_quantity": str(ask_size),
        }

    def _book(self, product_id: str) -> dict[tuple[str, Decimal], Decimal]:
        book = {("bid", p): s for p, s in self.exchange.book(product_id, Side.BUY, BOOK_LEVELS)}
        book.update({("offer", p): s for p, s in self.exchange.book(product_id, Side.SELL, BOOK_LEVELS)})
        return book

    def _candle(self, product_id: str) -> dict[str, Any]:
        now = self.exchange.clock.wall.now()
        start = int(now) - int(now) % CANDLE_SECONDS
        clock = self.exchange.clock
        o, h, low, c, v = self.exchange.paths[product_id].span(clock.position(start), clock.position(now))
        quantum = self.exchange.listings[product_id].product.quote_increment
        return {
            "start": str(start),
            "high": payloads.price(h, quantum),
            "low": payloads.price(low, quantum),
            "open": payloads.price(o, quantum),
            "close": payloads.price(c, quantum),
            "volume": f"{v:.8f}",
            "product_id": product_id,
        }

    def _trade(self, product_id: str, step: int) -> dict[str, Any]:
        return payloads.market_trade(
            self.exchange.listings[product_id], self.exchange.paths[product_id], step, self.exchange.clock.wall.utc()
        )

    def _status(self, product_id: str) -> dict[str, Any]:
        product = self.exchange.listings[product_id].product
        return {
            "product_type": product.product_type.value,
            "id": product_id,
            "base_currency": product.base_currency,
            "quote_currency": product.quote_currency,
            "base_increment": str(product.base_increment),
            "quote_increment": str(product.quote_increment),
            "display_name": product_id,
            "status": "online",
            "status_message": "",
            "min_market_funds": str(product.quote_min_size),
        }

    def _balance_summary(self) -> dict[str, Any]:
        with self.exchange.lock:
            return {name: payloads.money(value) for name, value in cfm_summary(self.exchange).items()}


def _book_updates(
    book: dict[tuple[str, Decimal], Decimal], before: dict[tuple[str, Decimal], Decimal], now: datetime
) -> list[dict[str, Any]]:
    """Level changes from `before` to `book`; a level that went away is sent with quantity 0."""
    stamp = payloads.rfc3339(now)
    updates = [
        {"side": side, "event_time": stamp, "price_level": str(price), "new_quantity": str(size)}
        for (side, price), size in book.items()
        if before.get((side, price)) != size
    ]
    updates.extend(
        {"side": side, "event_time": stamp, "price_level": str(price), "new_quantity": "0"}
        for (side, price) in before
        if (side, price) not in book
    )
    return updates


def _user_order(order: SandboxOrder) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "client_order_id": order.client_order_id,
        "cumulative_quantity": payloads.money(order.filled_size),
        "leaves_quantity": payloads.money(order.remaining),
        "avg_price": payloads.money(order.average_price),
        "total_fees": payloads.money(order.total_fees),
        "status": order.status,
        "product_id": order.product_id,
        "creation_time": payloads.rfc3339(order.created_time),
        "order_side": order.side.value,
        "order_type": order.order_type.capitalize(),
        "cancel_reason": order.cancel_message,
        "reject_reason": "",
        "total_value_after_fees": payloads.money(order.filled_value + order.total_fees),
        "contract_expiry_type": "UNKNOWN_CONTRACT_EXPIRY_TYPE",
        "product_type": "SPOT" if order.product_type is ProductType.SPOT else "FUTURE",
        "risk_managed_by": "UNKNOWN_RISK_MANAGEMENT_TYPE",
        "time_in_force": order.time_in_force,
        "trigger_status": order.trigger_status,
        "number_of_fills": str(order.fill_count),
        "filled_value": payloads.money(order.filled_value),
    }
