"""The interface every broker offers the engine: the Coinbase adapter, the paper and deterministic brokers."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from gpttrader.domain import (
    Balance,
    Candle,
    Fill,
    Granularity,
    Order,
    OrderBook,
    OrderRequest,
    Position,
    Product,
    Quote,
)
from gpttrader.domain.stream import StreamEvent

# Where a stream delivers its events, on the stream's own threads: it must only record and wake.
EventSink = Callable[[StreamEvent], None]


@dataclass(frozen=True, slots=True)
class OrderPreview:
    """What the venue says an order would cost now, for the risk layer's last check."""

    product_id: str
    quote_size: Decimal
    base_size: Decimal
    commission: Decimal
    slippage: Decimal
    errors: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True, slots=True)
class MarginSummary:
    """A futures account's margin, for the risk layer's margin check (Coinbase: the CFM balance summary)."""

    total_balance: Decimal
    buying_power: Decimal
    initial_margin: Decimal
    available_margin: Decimal
    unrealized_pnl: Decimal
    liquidation_buffer: Decimal


@dataclass(frozen=True, slots=True)
class FeeRates:
    """The account's fee rates, each a fraction of the notional per side (0.006 is 0.6%): Coinbase's fee
    tier from its transaction summary, or a simulated venue's schedule. `tier` is the venue's name for it."""

    tier: str
    maker: Decimal
    taker: Decimal

    def as_dict(self) -> dict[str, str]:
        return {"tier": self.tier, "maker": str(self.maker), "taker": str(self.taker)}


class StreamStatus(Protocol):
    """A stream's connection as the health checks and alerts read it."""

    @property
    def connected(self) -> bool: ...


class Stream(Protocol):
    """A venue's push feed, built by `Broker.stream` and not yet started: typed events (quotes, trades,
    order updates, fills, resyncs) go to the sink it was built with, never the venue's messages."""

    @property
    def health(self) -> StreamStatus: ...

    def start(self, product_ids: Sequence[str], channels: Sequence[str]) -> None:
        """Connect and subscribe the products on the venue's channels (Coinbase: `ticker`, `user`, ...)."""
        ...

    def stop(self) -> None: ...


class Broker(Protocol):
    def candles(self, product_id: str, granularity: Granularity, start: datetime, end: datetime) -> list[Candle]: ...

    def products(self) -> list[Product]: ...

    def product(self, product_id: str) -> Product: ...

    def quote(self, product_id: str) -> Quote: ...

    def order_book(self, product_id: str, levels: int) -> OrderBook:
        """The best `levels` of each side of the product's book."""
        ...

    def balances(self) -> list[Balance]: ...

    def positions(self) -> list[Position]: ...

    def place_order(self, request: OrderRequest) -> Order: ...

    def edit_order(self, order_id: str, *, size: Decimal, limit_price: Decimal) -> Order: ...

    def preview_order(self, request: OrderRequest) -> OrderPreview: ...

    def cancel_orders(self, order_ids: list[str]) -> dict[str, bool]: ...

    def get_order(self, order_id: str) -> Order: ...

    def list_orders(self, product_id: str | None = None, *, open_only: bool = False) -> list[Order]: ...

    def fills(self, *, order_id: str | None = None, product_id: str | None = None) -> list[Fill]: ...

    def cash(self, *, derivatives: bool = False) -> dict[str, Decimal]:
        """The money the account trades with, per currency: spot balances and, with `derivatives`, the
        collateral of the derivatives accounts, each pool counted once."""
        ...

    def margin_summary(self) -> MarginSummary | None:
        """The futures account's margin; None where there is none (a spot-only account)."""
        ...

    def fee_rates(self) -> FeeRates:
        """The maker and taker rates the account pays now (Coinbase: by its 30-day volume tier)."""
        ...

    def server_time(self) -> datetime:
        """The exchange's clock (a simulated broker's is its market's), to measure the bot's clock against."""
        ...

    def stream(self, on_event: EventSink) -> Stream | None:
        """The venue's push feed of typed events for `on_event`, not yet started; None where the broker has
        none (a Coinbase broker built without a feed): the engine then reads everything by REST each cycle. The
        Coinbase broker streams its WebSocket feed; the simulated brokers (paper, dev) their venue's order
        updates, fills and trades as they happen inside the engine's own calls, and their market's quotes."""
        ...
