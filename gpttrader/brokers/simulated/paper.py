"""The paper broker: market data from elsewhere, fills from the backtest's fill model, books that are kept.

Its market is Coinbase (the sandbox, or the real public endpoints) for the paper profile, and a fixed
price path for dev: the deterministic broker is this broker on `PricePathMarket`, where the same clock and
the same orders give the same fills, event for event. Resting orders are worked against every one-minute
bar that closes after they were placed, exactly as in the backtest.
"""

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from gpttrader.brokers.protocol import EventSink, FeeRates, MarginSummary, OrderPreview, Stream
from gpttrader.brokers.simulated.depth import synthetic_book
from gpttrader.brokers.simulated.events import SimulatedStream
from gpttrader.brokers.simulated.fills import FillModel
from gpttrader.brokers.simulated.market import MarketData
from gpttrader.brokers.simulated.venue import SimulatedVenue, VenueState
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
    Side,
)

MINUTE = timedelta(minutes=1)


class PaperBroker:
    def __init__(
        self,
        market: MarketData,
        products: Mapping[str, Product],
        clock: Callable[[], datetime],
        *,
        balances: Mapping[str, Decimal],
        model: FillModel | None = None,
        state: VenueState | None = None,
        on_change: Callable[[VenueState], None] | None = None,
        name: str = "paper",
        stream: Callable[[EventSink], Stream] | None = None,
    ) -> None:
        """`products`: those it trades; `state`: the account as a previous run left it (then `balances` is
        not used); `on_change`: called with the account after every change, to keep it; `stream`: builds
        its market's push feed (paper: Coinbase's public ticker; dev: the price path's), where it has one."""
        self._market = market
        self._stream = stream
        self._clock = clock
        account = state or VenueState(dict(balances))
        self._venue = SimulatedVenue(products, model or FillModel(), account, clock, name=name, on_change=on_change)
        # The last bar worked per product: the one before the bar the clock starts in.
        start = clock().replace(second=0, microsecond=0) - MINUTE
        self._worked = dict.fromkeys(products, start)

    # -- market data -------------------------------------------------------------------------------------
    def products(self) -> list[Product]:
        return list(self._venue.products.values())

    def product(self, product_id: str) -> Product:
        return self._market.product(product_id)

    def quote(self, product_id: str) -> Quote:
        return self._market.quote(product_id)

    def order_book(self, product_id: str, levels: int) -> OrderBook:
        """The depth model's book around the market's quote: the one the backtest's guards read too."""
        quote = self._market.quote(product_id)
        product = self._market.product(product_id)
        bids, asks = (tuple(synthetic_book(product, quote.mid, side, levels=levels)) for side in (Side.BUY, Side.SELL))
        return OrderBook(product_id, bids, asks, quote.time)

    def candles(self, product_id: str, granularity: Granularity, start: datetime, end: datetime) -> list[Candle]:
        return self._market.candles(product_id, granularity, start, end)

    def server_time(self) -> datetime:
        """The market's clock (Coinbase's, for paper): the one its bars close by."""
        return self._market.server_time()

    def stream(self, on_event: EventSink) -> Stream:
        """Its venue's order updates, fills and trades (sent from inside the calls that make them: each call
        works the bars that closed) and its market's feed where it has one (quotes, resyncs)."""
        return SimulatedStream(self._venue.events, on_event, None if self._stream is None else self._stream(on_event))

    # -- account -----------------------------------------------------------------------------------------
    def balances(self) -> list[Balance]:
        self._catch_up()
        return self._venue.balances()

    def cash(self, *, derivatives: bool = False) -> dict[str, Decimal]:
        """One pool per currency: the simulated venue margins derivatives from the same balances."""
        return {b.currency: b.total for b in self.balances()}

    def positions(self) -> list[Position]:
        """Futures and perpetual positions (spot holdings are balances)."""
        self._catch_up()
        return self._venue.positions()

    def margin_summary(self) -> MarginSummary | None:
        self._catch_up()
        return self._venue.margin_summary()

    def fee_rates(self) -> FeeRates:
        """The fill model's schedule: what this venue charges (the profile's `paper` fee rates)."""
        return self._venue.model.fees.rates()

    def place_order(self, request: OrderRequest) -> Order:
        self._catch_up()
        return self._venue.place(request, self.quote(request.product_id))

    def edit_order(self, order_id: str, *, size: Decimal, limit_price: Decimal) -> Order:
        self._catch_up()
        return self._venue.edit(order_id, size=size, limit_price=limit_price)

    def preview_order(self, request: OrderRequest) -> OrderPreview:
        return self._venue.preview(request, self.quote(request.product_id))

    def cancel_orders(self, order_ids: list[str]) -> dict[str, bool]:
        self._catch_up()
        return self._venue.cancel(order_ids)

    def get_order(self, order_id: str) -> Order:
        self._catch_up()
        return self._venue.order(order_id)

    def list_orders(self, product_id: str | None = None, *, open_only: bool = False) -> list[Order]:
        self._catch_up()
        return self._venue.orders(product_id, open_only=open_only)

    def fills(self, *, order_id: str | None = None, product_id: str | None = None) -> list[Fill]:
        self._catch_up()
        return self._venue.fills(order_id=order_id, product_id=product_id)

    def _catch_up(self) -> None:
        """Work resting orders against every bar that closed since the last time, and charge perpetuals
        their funding (only products with an open order or a position are asked for bars)."""
        working = {o.product_id for o in self._venue.orders(open_only=True)}
        working |= {p.product_id for p in self._venue.positions()}
        now = self._clock()
        for pid, last in self._worked.items():
            if pid not in working:
                self._worked[pid] = now.replace(second=0, microsecond=0) - MINUTE
                continue
            closed = self._market.candles(pid, Granularity.ONE_MINUTE, last + MINUTE, now)
            for candle in closed:
                if candle.time + MINUTE <= now:
                    self._venue.work(candle)
                    self._worked[pid] = candle.time
