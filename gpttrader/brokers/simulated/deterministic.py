"""The dev profile's broker: a fixed one-minute price path per product, read on the clock, and fills by
the shared fill model. The same clock and the same orders give the same fills, event for event; nothing
leaves the process.

The quote is the open of the bar the clock is in, with no spread: an order sent when a bar closes fills
where the backtest fills it, at the next bar's open (plus the model's slippage).
"""

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from gpttrader.brokers.errors import BrokerError, NotFoundError
from gpttrader.brokers.protocol import OrderPreview
from gpttrader.brokers.simulated.fills import FillModel
from gpttrader.brokers.simulated.venue import SimulatedVenue, VenueState
from gpttrader.domain import Balance, Candle, Fill, Granularity, Order, OrderRequest, Position, Product, Quote

MINUTE = timedelta(minutes=1)


class DeterministicBroker:
    def __init__(
        self,
        products: Mapping[str, Product],
        candles: Mapping[str, Sequence[Candle]],
        clock: Callable[[], datetime],
        *,
        balances: Mapping[str, Decimal],
        model: FillModel | None = None,
        state: VenueState | None = None,
        on_change: Callable[[VenueState], None] | None = None,
    ) -> None:
        """`state`: the account as a previous run left it (then `balances` is not used); `on_change`: called
        with the account after every change, to keep it."""
        missing = sorted(set(products) - set(candles))
        if missing:
            raise ValueError(f"no price path for {', '.join(missing)}")
        self._candles = {pid: list(candles[pid]) for pid in products}
        self._times = {pid: [c.time for c in path] for pid, path in self._candles.items()}
        self._clock = clock
        account = state or VenueState(dict(balances))
        self._venue = SimulatedVenue(products, model or FillModel(), account, clock, name="dev", on_change=on_change)
        # The last bar worked per product: the one before the bar the clock starts in.
        self._worked = {pid: self._current(pid).time - MINUTE for pid in products}

    # -- market data -------------------------------------------------------------------------------------
    def products(self) -> list[Product]:
        return list(self._venue.products.values())

    def product(self, product_id: str) -> Product:
        product = self._venue.products.get(product_id)
        if product is None:
            raise NotFoundError(f"unknown product {product_id}")
        return product

    def quote(self, product_id: str) -> Quote:
        bar = self._current(product_id)
        return Quote(product_id, bar.open, bar.open, bar.open, self._clock())

    def candles(self, product_id: str, granularity: Granularity, start: datetime, end: datetime) -> list[Candle]:
        """Closed one-minute bars starting in [start, end)."""
        if granularity is not Granularity.ONE_MINUTE:
            raise BrokerError(f"the deterministic broker serves ONE_MINUTE candles, not {granularity.value}")
        self.product(product_id)
        times = self._times[product_id]
        first = bisect_left(times, start)
        last = min(bisect_left(times, end), bisect_right(times, self._clock() - MINUTE))  # closed bars only
        return self._candles[product_id][first:last]

    # -- account -----------------------------------------------------------------------------------------
    def balances(self) -> list[Balance]:
        self._catch_up()
        return self._venue.balances()

    def positions(self) -> list[Position]:
        return []  # spot only: holdings are balances

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

    # -- pieces ------------------------------------------------------------------------------------------
    def _current(self, product_id: str) -> Candle:
        self.product(product_id)
        now = self._clock()
        index = bisect_right(self._times[product_id], now) - 1
        path = self._candles[product_id]
        if index < 0 or now >= path[-1].time + MINUTE:
            raise BrokerError(
                f"{product_id}: the price path covers {path[0].time:%Y-%m-%d %H:%M} to "
                f"{path[-1].time + MINUTE:%Y-%m-%d %H:%M} UTC, not {now:%Y-%m-%d %H:%M:%S}"
            )
        return path[index]

    def _catch_up(self) -> None:
        """Work resting orders against every bar that closed since the last time."""
        for pid, last in self._worked.items():
            closed = self.candles(pid, Granularity.ONE_MINUTE, last + MINUTE, self._clock())
            for candle in closed:
                self._venue.work(candle)
            if closed:
                self._worked[pid] = closed[-1].time
