"""Coinbase's WebSocket messages read into typed stream events, as strictly as `mapping` reads REST answers.

- `ticker` and `ticker_batch`: a QuoteEvent per ticker (its `price` is the mark; `best_bid`/`best_ask`
  where given), stamped with the message's `timestamp`;
- `market_trades`: a TradeEvent per trade;
- `user`: an OrderUpdateEvent per order, and a FillEvent when its `cumulative_quantity` grew since the
  last update seen (Coinbase reports no single fills there: the fills are read by REST, by trade id);
- a `sequence_num` that does not follow the connection's last one: a ResyncEvent first, as the messages
  between were missed;
- `heartbeats`, `subscriptions` and every other channel: nothing (the stream still counts them).
A message that cannot be read (not JSON, a required field missing or of the wrong type) raises
MalformedAnswerError naming its channel, as a malformed REST answer does; nothing is read from it.
"""

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from gpttrader.brokers.coinbase.mapping import _STATUS, dec, field, items, reading, timestamp
from gpttrader.brokers.errors import MalformedAnswerError
from gpttrader.domain import OrderStatus, Side
from gpttrader.domain.stream import FillEvent, OrderUpdateEvent, QuoteEvent, ResyncEvent, StreamEvent, TradeEvent

log = logging.getLogger(__name__)

TICKER_CHANNELS = ("ticker", "ticker_batch")
_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.FAILED})


@dataclass(frozen=True, slots=True)
class _Filled:
    size: Decimal
    value: Decimal
    fees: Decimal


def side(data: dict[str, Any], name: str, where: str) -> Side:
    value = field(data, name, where)
    if value not in ("BUY", "SELL"):
        raise MalformedAnswerError(f"{where}: field {name!r} is {value!r}, not BUY or SELL")
    return Side(value)


def quote_event(ticker: dict[str, Any], time: datetime) -> QuoteEvent:
    """A ticker: its product and last price are required; a bid or ask it leaves empty is not known."""
    where = f"{ticker.get('product_id') if isinstance(ticker, dict) else None} ticker"
    bid, ask = (
        dec(ticker, name, where) if ticker.get(name) not in (None, "") else None for name in ("best_bid", "best_ask")
    )
    return QuoteEvent(str(field(ticker, "product_id", where)), dec(ticker, "price", where), bid, ask, time)


def trade_event(trade: dict[str, Any]) -> TradeEvent:
    where = f"trade {trade.get('trade_id')}"
    return TradeEvent(
        product_id=str(field(trade, "product_id", where)),
        trade_id=str(field(trade, "trade_id", where)),
        price=dec(trade, "price", where),
        size=dec(trade, "size", where),
        side=side(trade, "side", where),
        time=timestamp(field(trade, "time", where), where),
    )


def order_update(data: dict[str, Any], time: datetime) -> OrderUpdateEvent:
    """A user-channel order, read as `mapping.order` reads a REST one (its status, partly filled when open
    with something filled); an order without a `client_order_id` was placed by someone else."""
    where = f"order {data.get('order_id')} update"
    venue_status = str(field(data, "status", where))
    if venue_status not in _STATUS:
        raise MalformedAnswerError(f"{where}: an order status this toolkit does not know: {venue_status}")
    status = _STATUS[venue_status]
    filled = dec(data, "cumulative_quantity", where)
    if status is OrderStatus.OPEN and filled > 0:
        status = OrderStatus.PARTIALLY_FILLED
    client_order_id = data.get("client_order_id")
    if client_order_id is not None and not isinstance(client_order_id, str):
        raise MalformedAnswerError(f"{where}: field 'client_order_id' is not a string: {client_order_id!r}")
    return OrderUpdateEvent(
        order_id=str(field(data, "order_id", where)),
        client_order_id=client_order_id or None,
        product_id=str(field(data, "product_id", where)),
        side=side(data, "order_side", where),
        status=status,
        filled_size=filled,
        remaining_size=dec(data, "leaves_quantity", where),
        average_price=dec(data, "avg_price", where) if filled > 0 else None,
        fees=dec(data, "total_fees", where),
        time=time,
    )


class StreamDecoder:
    """One stream's reader: the sequence of its current connection and the filled size last seen of each
    working order (to tell what an update newly filled). Not thread-safe: the stream serializes calls."""

    def __init__(self) -> None:
        self._sequence: int | None = None
        self._orders: dict[str, _Filled] = {}

    def reset(self) -> None:
        """A new connection: its sequence starts afresh (the orders' filled sizes stay true)."""
        self._sequence = None

    def read(self, raw: str | bytes) -> tuple[str, list[StreamEvent]]:
        """A message as the socket delivered it: its channel and its events."""
        try:
            message = json.loads(raw)
        except ValueError as exc:
            raise MalformedAnswerError(f"not JSON: {exc}", "websocket") from None
        if not isinstance(message, dict):
            raise MalformedAnswerError(f"expected a JSON object, got {type(message).__name__}", "websocket")
        channel = message.get("channel")
        return (channel if isinstance(channel, str) else str(message.get("type") or "")), self.decode(message)

    def decode(self, message: dict[str, Any]) -> list[StreamEvent]:
        """A parsed message's events: a ResyncEvent first when its sequence number skipped some."""
        events: list[StreamEvent] = []
        sequence = message.get("sequence_num")
        if isinstance(sequence, int) and not isinstance(sequence, bool):
            if self._sequence is not None and sequence != self._sequence + 1:
                events.append(ResyncEvent(f"sequence gap before {sequence}", datetime.now(UTC)))
            self._sequence = sequence
        channel = message.get("channel")
        if message.get("type") == "error":
            log.warning("the feed reports an error: %s", message.get("message") or message)
            return events
        if channel in TICKER_CHANNELS:
            with reading(f"websocket {channel}"):
                time = self._time(message, str(channel))
                for event in items(message, "events", str(channel)):
                    events.extend(quote_event(t, time) for t in items(event, "tickers", str(channel)))
        elif channel == "market_trades":
            with reading("websocket market_trades"):
                for event in items(message, "events", "market_trades"):
                    events.extend(trade_event(t) for t in items(event, "trades", "market_trades"))
        elif channel == "user":
            with reading("websocket user"):
                events.extend(self._user(message))
        return events

    def _user(self, message: dict[str, Any]) -> list[StreamEvent]:
        time = self._time(message, "user")
        updates: list[tuple[OrderUpdateEvent, bool, Decimal]] = []
        for event in items(message, "events", "user"):
            snapshot = field(event, "type", "user event") == "snapshot"
            for row in items(event, "orders", "user"):
                update = order_update(row, time)
                value = dec(
                    row,
                    "filled_value",
                    f"order {update.order_id} update",
                    update.filled_size * (update.average_price or Decimal(0)),
                )
                updates.append((update, snapshot, value))
        # Read whole before any state changes: a malformed message leaves the known filled sizes as they were.
        events: list[StreamEvent] = []
        for update, snapshot, value in updates:
            events.append(update)
            before = self._orders.get(update.order_id)
            if before is None and not snapshot:
                before = _Filled(Decimal(0), Decimal(0), Decimal(0))  # new since subscribing: nothing filled before
            if before is not None and update.filled_size > before.size:
                size = update.filled_size - before.size
                events.append(
                    FillEvent(
                        order_id=update.order_id,
                        client_order_id=update.client_order_id,
                        product_id=update.product_id,
                        side=update.side,
                        size=size,
                        price=(value - before.value) / size,
                        fee=update.fees - before.fees,
                        time=time,
                    )
                )
            if update.status in _TERMINAL:
                self._orders.pop(update.order_id, None)
            else:
                self._orders[update.order_id] = _Filled(update.filled_size, value, update.fees)
        return events

    @staticmethod
    def _time(message: dict[str, Any], where: str) -> datetime:
        return timestamp(field(message, "timestamp", where), where)
