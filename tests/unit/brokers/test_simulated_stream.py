"""The simulated venues' push feed: typed order updates, fills, trades and quotes, as Coinbase's stream sends."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal as D

from gpttrader.brokers.simulated import FeeSchedule, FillModel
from gpttrader.brokers.simulated.events import SimulatedStream
from gpttrader.brokers.simulated.market import PricePathMarket
from gpttrader.brokers.simulated.paper import PaperBroker
from gpttrader.brokers.simulated.venue import SimulatedVenue, VenueState
from gpttrader.domain import Granularity, Order, OrderStatus, OrderType, Product, Side
from gpttrader.domain.stream import (
    FillEvent,
    OrderUpdateEvent,
    QuoteEvent,
    ResyncEvent,
    StreamEvent,
    TradeEvent,
)
from tests.unit.brokers.test_simulated_venue import T0, Clock, bar, order, path, quote, venue

MINUTE = timedelta(minutes=1)


@dataclass
class Seen:
    """An event, and the venue as the sink found it when the event arrived."""

    event: StreamEvent
    order: Order | None
    booked: list[str]


def test_the_venue_streams_each_change_to_an_order_after_making_it(btc: Product) -> None:
    clock = Clock(T0)
    # A bar's volume is 100: a thousandth of it fills 0.1 a bar, so a 0.2 order fills in two parts.
    model = FillModel(fees=FeeSchedule(maker=D("0.004"), taker=D("0.006")), max_volume_share=D("0.001"))
    v = SimulatedVenue({"BTC-USD": btc}, model, VenueState({"USD": D(20000)}), clock, name="dev")
    seen: list[Seen] = []

    def sink(event: StreamEvent) -> None:
        found = v.order(event.order_id) if isinstance(event, (OrderUpdateEvent, FillEvent)) else None
        seen.append(Seen(event, found, [f.trade_id for f in v.fills()]))

    SimulatedStream(v.events, sink).start(["BTC-USD"], ["ticker", "user", "market_trades"])
    placed = v.place(order("a", Side.BUY, "0.2", OrderType.LIMIT, limit_price=D(49000)), quote("50000"))
    for minute in (1, 2):
        clock.at = T0 + (minute + 1) * MINUTE
        v.work(bar(T0 + minute * MINUTE, "49800", "49900", "48900", "49100"))
    clock.at = T0 + 4 * MINUTE
    other = v.place(order("b", Side.BUY, "0.1", OrderType.LIMIT, limit_price=D(40000)), quote("50000"))
    v.cancel([other.order_id or ""])

    kinds = [type(s.event).__name__ for s in seen]
    assert kinds == [
        *("OrderUpdateEvent", "OrderUpdateEvent", "FillEvent", "TradeEvent"),
        *("OrderUpdateEvent", "FillEvent", "TradeEvent", "OrderUpdateEvent", "OrderUpdateEvent"),
    ]
    updates = [s for s in seen if isinstance(s.event, OrderUpdateEvent)]
    assert [
        (u.event.client_order_id, u.event.status, u.event.filled_size, u.event.remaining_size) for u in updates
    ] == [
        ("a", OrderStatus.OPEN, 0, D("0.2")),
        ("a", OrderStatus.PARTIALLY_FILLED, D("0.1"), D("0.1")),
        ("a", OrderStatus.FILLED, D("0.2"), 0),
        ("b", OrderStatus.OPEN, 0, D("0.1")),
        ("b", OrderStatus.CANCELLED, 0, D("0.1")),
    ]
    for update in updates:  # each says what the venue already holds
        assert update.order is not None
        assert (update.order.status, update.order.filled_size) == (update.event.status, update.event.filled_size)
    first = updates[1].event
    assert isinstance(first, OrderUpdateEvent)
    assert (first.order_id, first.side, first.average_price, first.fees, first.time) == (
        placed.order_id,
        Side.BUY,
        D(49000),
        D("19.6"),  # maker: 0.4% of 4900
        T0 + 2 * MINUTE,
    )
    assert updates[0].event.average_price is None  # nothing filled yet
    fills = [s for s in seen if isinstance(s.event, FillEvent)]
    assert [f.event.trade_id for f in fills] == [f.trade_id for f in v.fills()]
    for streamed, booked in zip(fills, v.fills(), strict=True):
        assert isinstance(streamed.event, FillEvent)
        assert streamed.event.trade_id in streamed.booked  # booked before it was told
        assert streamed.event == FillEvent(
            booked.order_id or "",
            "a",
            "BTC-USD",
            Side.BUY,
            booked.size,
            booked.price,
            booked.fee,
            booked.time,
            booked.trade_id,
        )
    trades = [s.event for s in seen if isinstance(s.event, TradeEvent)]
    # The resting buy made both trades: the maker's side is the one Coinbase reports.
    assert trades == [TradeEvent("BTC-USD", f.trade_id, f.price, f.size, Side.BUY, f.time) for f in v.fills()]
    assert all(isinstance(getattr(s.event, "price", D(0)), D) for s in seen)


def test_a_market_order_that_takes_is_traded_on_its_makers_side(btc: Product) -> None:
    v = venue(btc, Clock(T0))
    got: list[StreamEvent] = []
    SimulatedStream(v.events, got.append).start(["BTC-USD"], ["market_trades"])
    v.place(order("a", Side.BUY, "0.1"), quote("50000"))
    [fill] = v.fills()
    assert got == [TradeEvent("BTC-USD", fill.trade_id, D(50000), D("0.1"), Side.SELL, T0)]


def test_a_stream_gets_its_own_products_and_channels_until_it_stops(btc: Product) -> None:
    v = venue(btc, Clock(T0))
    elsewhere: list[StreamEvent] = []
    trades: list[StreamEvent] = []
    SimulatedStream(v.events, elsewhere.append).start(["ETH-USD"], ["user", "market_trades"])
    stream = SimulatedStream(v.events, trades.append)
    stream.start(["BTC-USD"], ["market_trades"])
    assert stream.health.connected
    v.place(order("a", Side.BUY, "0.1"), quote("50000"))
    stream.stop()
    assert not stream.health.connected
    v.place(order("b", Side.SELL, "0.1"), quote("50000"))
    assert elsewhere == []
    assert [type(e) for e in trades] == [TradeEvent]


def test_a_sink_that_fails_on_an_event_is_told_to_read_everything_again(btc: Product) -> None:
    v = venue(btc, Clock(T0))
    got: list[StreamEvent] = []

    def sink(event: StreamEvent) -> None:
        got.append(event)
        if isinstance(event, FillEvent):
            raise RuntimeError("the sink lost it")

    SimulatedStream(v.events, sink).start(["BTC-USD"], ["user"])
    placed = v.place(order("a", Side.BUY, "0.1"), quote("50000"))
    assert placed.status is OrderStatus.FILLED  # the venue goes on
    assert [type(e) for e in got] == [OrderUpdateEvent, OrderUpdateEvent, FillEvent, ResyncEvent]
    assert got[-1] == ResyncEvent("FillEvent not taken in", T0)


@dataclass
class MarketFeed:
    """A market's feed as the simulated stream drives it (paper: Coinbase's ticker)."""

    started: list[tuple[list[str], list[str]]] = field(default_factory=list)
    stopped: int = 0

    @property
    def health(self) -> "MarketFeed":
        return self

    @property
    def connected(self) -> bool:
        return len(self.started) > self.stopped

    def start(self, product_ids: Sequence[str], channels: Sequence[str]) -> None:
        self.started.append((list(product_ids), list(channels)))

    def stop(self) -> None:
        self.stopped += 1


def test_the_dev_broker_streams_the_paths_quotes_and_its_orders(btc: Product) -> None:
    clock = Clock(T0 + timedelta(seconds=30))
    market = PricePathMarket({"BTC-USD": btc}, {"BTC-USD": path(T0, ["100", "101", "102", "103"])}, clock)
    broker = PaperBroker(market, {"BTC-USD": btc}, clock, balances={"USD": D(10000)}, stream=market.feed)
    got: list[StreamEvent] = []
    stream = broker.stream(got.append)
    stream.start(["BTC-USD"], ["ticker", "user"])
    broker.quote("BTC-USD")
    broker.candles("BTC-USD", Granularity.ONE_MINUTE, T0, T0 + MINUTE)
    assert got == [QuoteEvent("BTC-USD", D(100), D(100), D(100), T0 + timedelta(seconds=30))]  # once a minute
    clock.at = T0 + timedelta(minutes=1, seconds=10)
    placed = broker.place_order(order("a", Side.BUY, "1"))
    assert got[1] == QuoteEvent("BTC-USD", D(101), D(101), D(101), clock.at)  # read before the order met it
    assert [(type(e), getattr(e, "status", None)) for e in got[2:]] == [
        (OrderUpdateEvent, OrderStatus.OPEN),
        (OrderUpdateEvent, OrderStatus.FILLED),
        (FillEvent, None),
    ]
    assert got[-1] == FillEvent(
        placed.order_id or "", "a", "BTC-USD", Side.BUY, D(1), D(101), D("0.606"), clock.at, "paper-t00000002"
    )
    stream.stop()
    clock.at = T0 + 2 * MINUTE
    broker.quote("BTC-USD")
    assert len(got) == 5


def test_the_paper_broker_starts_its_markets_feed_on_the_public_channels_only(btc: Product) -> None:
    clock = Clock(T0)
    feed = MarketFeed()
    market = PricePathMarket({"BTC-USD": btc}, {"BTC-USD": path(T0, ["100"])}, clock)
    broker = PaperBroker(market, {"BTC-USD": btc}, clock, balances={"USD": D(10000)}, stream=lambda sink: feed)
    stream = broker.stream(lambda event: None)
    stream.start(["BTC-USD"], ["ticker", "user"])
    assert feed.started == [(["BTC-USD"], ["ticker"])]  # the account's orders are the venue's to tell
    assert stream.health.connected
    stream.stop()
    assert (feed.stopped, stream.health.connected) == (1, False)
