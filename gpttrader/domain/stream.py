"""What a venue's push feed tells the engine, as typed events: a broker's stream turns its venue's messages
(Coinbase's WebSocket JSON) into these, so the engine never reads a venue's JSON.

Prices, sizes and fees are Decimal; every time is an aware UTC datetime stamped by the venue (a resync's
by the stream that noticed it).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from gpttrader.domain.enums import OrderStatus, Side


@dataclass(frozen=True, slots=True)
class QuoteEvent:
    """A product's last trade price and, where the venue said them, its best bid and ask."""

    product_id: str
    price: Decimal
    bid: Decimal | None
    ask: Decimal | None
    time: datetime


@dataclass(frozen=True, slots=True)
class TradeEvent:
    """A trade in the market (anyone's): `side` as the venue reports it (Coinbase: the maker's side)."""

    product_id: str
    trade_id: str
    price: Decimal
    size: Decimal
    side: Side
    time: datetime


@dataclass(frozen=True, slots=True)
class OrderUpdateEvent:
    """One of the account's orders as the venue reports it now: its status and how much of it is filled.
    `client_order_id` is None for an order placed without one (not the bot's)."""

    order_id: str
    client_order_id: str | None
    product_id: str
    side: Side
    status: OrderStatus
    filled_size: Decimal
    remaining_size: Decimal
    average_price: Decimal | None  # None until something filled
    fees: Decimal  # all the order's fees so far
    time: datetime


@dataclass(frozen=True, slots=True)
class FillEvent:
    """Size newly filled on one of the account's orders. `trade_id` is None where the venue reports fills
    only as an order's growing filled size (Coinbase's user channel): then `size`, `price` and `fee` cover
    everything filled since the order's last update, and the fills themselves are read by REST."""

    order_id: str
    client_order_id: str | None
    product_id: str
    side: Side
    size: Decimal
    price: Decimal
    fee: Decimal
    time: datetime
    trade_id: str | None = None


@dataclass(frozen=True, slots=True)
class ResyncEvent:
    """Events may have been missed (a reconnect, a sequence gap, a message that could not be read): what
    the engine knows from the stream must be read again by REST."""

    reason: str
    time: datetime


StreamEvent = QuoteEvent | TradeEvent | OrderUpdateEvent | FillEvent | ResyncEvent
