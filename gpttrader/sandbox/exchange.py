"""The sandbox's matching engine and accounts.

Orders match in two phases. On entry, the marketable part walks a synthetic book around the current
price (taker fills, level by level, so size moves the price). What is left rests (GTC, GTD) or is
cancelled (IOC, market); FOK fills whole or not at all. A resting order fills as maker when the price
path trades through its limit, at most a share of the volume traded meanwhile, so large orders fill in
parts. A stop-limit waits for the path to cross its stop, then behaves as a limit order. A bracket is
an exit with two legs: its limit takes profit as maker; if the path reaches its stop trigger first, the
limit leg is cancelled and the rest executes at market.

Spot fills move wallet balances, with holds for resting orders. Futures and perpetual fills move
positions against a margin account (margin.py), with the order's initial margin held while it rests.
"""

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from gpttrader.brokers.simulated import FeeSchedule, synthetic_book
from gpttrader.domain import Liquidity, Product, ProductType, Side
from gpttrader.domain.funding import (
    FUNDING_RATE_PER_HOUR,
    accrue_funding,
    funding_payment,
    funding_times,
    pays_funding,
)
from gpttrader.sandbox.catalog import Listing
from gpttrader.sandbox.margin import MarginAccount
from gpttrader.sandbox.prices import MarketClock, PricePath

# Coinbase's order_configuration keys the engine executes: (order type, time in force).
CONFIGURATIONS: dict[str, tuple[str, str]] = {
    "market_market_ioc": ("MARKET", "IMMEDIATE_OR_CANCEL"),
    "market_market_fok": ("MARKET", "FILL_OR_KILL"),
    "limit_limit_gtc": ("LIMIT", "GOOD_UNTIL_CANCELLED"),
    "limit_limit_gtd": ("LIMIT", "GOOD_UNTIL_DATE_TIME"),
    "limit_limit_fok": ("LIMIT", "FILL_OR_KILL"),
    "sor_limit_ioc": ("LIMIT", "IMMEDIATE_OR_CANCEL"),
    "stop_limit_stop_limit_gtc": ("STOP_LIMIT", "GOOD_UNTIL_CANCELLED"),
    "stop_limit_stop_limit_gtd": ("STOP_LIMIT", "GOOD_UNTIL_DATE_TIME"),
    "trigger_bracket_gtc": ("BRACKET", "GOOD_UNTIL_CANCELLED"),
    "trigger_bracket_gtd": ("BRACKET", "GOOD_UNTIL_DATE_TIME"),
}
RESTING = frozenset({"GOOD_UNTIL_CANCELLED", "GOOD_UNTIL_DATE_TIME"})
TERMINAL = frozenset({"FILLED", "CANCELLED", "EXPIRED", "FAILED"})
# A bracket buy (closing a short) may execute above its trigger; hold a margin over it.
BRACKET_HOLD_BUFFER = Decimal("1.05")
# A quote-sized buy's base sizes are not on the product's grid; Coinbase reports them to 16 places.
QUOTE_FILL_QUANTUM = Decimal("1e-16")


class OrderRejectedError(Exception):
    """An order Coinbase would refuse: answered as HTTP 200 with success false and this error_response."""

    def __init__(self, error: str, message: str, preview_failure_reason: str = "") -> None:
        super().__init__(message)
        self.error = error
        self.message = message
        self.preview_failure_reason = preview_failure_reason or f"PREVIEW_{error}"


class NotFoundError(Exception):
    pass


@dataclass
class Account:
    uuid: str
    currency: str
    available: Decimal
    hold: Decimal = Decimal(0)
    created_at: datetime = field(default_factory=lambda: datetime(2000, 1, 1, tzinfo=UTC))


@dataclass
class SandboxFill:
    entry_id: str
    trade_id: str
    order_id: str
    client_order_id: str
    product_id: str
    side: Side
    price: Decimal
    size: Decimal
    commission: Decimal
    liquidity: Liquidity
    trade_time: datetime
    size_in_quote: bool = False  # a fill of a quote-sized order: Coinbase reports its size in quote


@dataclass(frozen=True, slots=True)
class OrderTicket:
    """A parsed create-order request, before it touches any state."""

    product_id: str
    side: Side
    configuration_key: str
    configuration: dict[str, Any]
    base_size: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    stop_direction: str | None
    post_only: bool
    end_time: datetime | None
    # A market buy sized in quote (`quote_size`): it spends this much, fees included, and base_size is what
    # the book gave for it (zero until it executes).
    quote_size: Decimal | None = None

    @property
    def order_type(self) -> str:
        return CONFIGURATIONS[self.configuration_key][0]

    @property
    def time_in_force(self) -> str:
        return CONFIGURATIONS[self.configuration_key][1]


@dataclass
class SandboxOrder:
    order_id: str
    client_order_id: str
    ticket: OrderTicket
    created_time: datetime
    product_type: ProductType
    status: str = "OPEN"
    base_size: Decimal = Decimal(0)
    limit_price: Decimal | None = None
    filled_size: Decimal = Decimal(0)
    filled_value: Decimal = Decimal(0)
    total_fees: Decimal = Decimal(0)
    hold: Decimal = Decimal(0)
    triggered: bool = False
    last_fill_time: datetime | None = None
    fill_count: int = 0
    cancel_message: str = ""
    checked_position: float = 0.0

    @property
    def product_id(self) -> str:
        return self.ticket.product_id

    @property
    def side(self) -> Side:
        return self.ticket.side

    @property
    def order_type(self) -> str:
        return self.ticket.order_type

    @property
    def time_in_force(self) -> str:
        return self.ticket.time_in_force

    @property
    def configuration(self) -> dict[str, Any]:
        """The configuration as it stands now (an edit changes size and price)."""
        ((key, params),) = self.ticket.configuration.items()
        current = dict(params)
        if self.ticket.quote_size is None:
            current["base_size"] = str(self.base_size)
        if self.limit_price is not None:
            current["limit_price"] = str(self.limit_price)
        return {key: current}

    @property
    def remaining(self) -> Decimal:
        return self.base_size - self.filled_size

    @property
    def average_price(self) -> Decimal:
        return self.filled_value / self.filled_size if self.filled_size else Decimal(0)

    @property
    def trigger_status(self) -> str:
        if self.order_type not in ("STOP_LIMIT", "BRACKET"):
            return "INVALID_ORDER_TYPE"
        return "STOP_TRIGGERED" if self.triggered else "STOP_PENDING"


class Exchange:
    def __init__(
        self,
        listings: dict[str, Listing],
        paths: dict[str, PricePath],
        clock: MarketClock,
        *,
        derivatives_enabled: bool,
        fees: FeeSchedule,
        starting_balances: dict[str, Decimal],
        cfm_balance: Decimal = Decimal(10_000),
        intx_balance: Decimal = Decimal(10_000),
        maker_participation: Decimal = Decimal("0.25"),
        on_fill: Callable[[SandboxOrder, SandboxFill], None] | None = None,
    ) -> None:
        self.listings = listings
        self.paths = paths
        self.clock = clock
        self.derivatives_enabled = derivatives_enabled
        self.fees = fees
        self.maker_participation = maker_participation
        self.on_fill = on_fill
        opened = clock.wall.utc()
        self.accounts = {
            c: Account(_account_uuid(c), c, amount, created_at=opened) for c, amount in starting_balances.items()
        }
        self.cfm = MarginAccount("CFM", "USD", cfm_balance, now=clock.wall.utc)
        self.intx = MarginAccount("INTX", "USDC", intx_balance, now=clock.wall.utc)
        self.orders: dict[str, SandboxOrder] = {}
        self.by_client_id: dict[str, str] = {}
        self.fills: list[SandboxFill] = []
        self.sweeps: list[dict[str, Any]] = []
        self.lock = threading.RLock()

    # -- market ---------------------------------------------------------------------------------------
    def visible(self, product_id: str) -> bool:
        listing = self.listings.get(product_id)
        if listing is None:
            return False
        return listing.product.product_type is not ProductType.PERPETUAL or self.derivatives_enabled

    def listing(self, product_id: str) -> Listing:
        if not self.visible(product_id):
            raise NotFoundError(f"product {product_id} not found")
        return self.listings[product_id]

    def mid(self, product_id: str, position: float | None = None) -> Decimal:
        path = self.paths[product_id]
        price = path.price(self.clock.position() if position is None else position)
        return Decimal(repr(price)).quantize(self.listings[product_id].product.quote_increment)

    def book(
        self, product_id: str, side: Side, levels: int = 20, mid: Decimal | None = None
    ) -> list[tuple[Decimal, Decimal]]:
        """One side of the book around the current mid, or around `mid` (the price at a stop's trigger)."""
        listing = self.listing(product_id)
        centre = self.mid(product_id) if mid is None else mid
        return [(lv.price, lv.size) for lv in synthetic_book(listing.product, centre, side, levels=levels)]

    def marks(self) -> dict[str, Decimal]:
        return {pid: self.mid(pid) for pid, listing in self.listings.items() if listing.product.is_derivative}

    def margin_account(self, product: Product) -> MarginAccount:
        return self.intx if product.product_type is ProductType.PERPETUAL else self.cfm

    # -- parsing --------------------------------------------------------------------------------------
    def parse(self, body: dict[str, Any]) -> OrderTicket:
        product_id = str(body.get("product_id", ""))
        if not self.visible(product_id):
            raise OrderRejectedError("INVALID_PRODUCT_ID", f"product {product_id!r} is not available")
        product = self.listings[product_id].product
        try:
            side = Side(str(body.get("side", "")))
        except ValueError:
            raise OrderRejectedError("INVALID_SIDE", f"side must be BUY or SELL, got {body.get('side')!r}") from None
        configuration = body.get("order_configuration")
        if not isinstance(configuration, dict) or len(configuration) != 1:
            raise OrderRejectedError("UNSUPPORTED_ORDER_CONFIGURATION", "order_configuration needs exactly one key")
        ((key, params),) = configuration.items()
        if key not in CONFIGURATIONS or not isinstance(params, dict):
            raise OrderRejectedError("UNSUPPORTED_ORDER_CONFIGURATION", f"unsupported order configuration {key}")
        order_type = CONFIGURATIONS[key][0]
        if order_type == "MARKET" and params.get("base_size") is None and params.get("quote_size") is not None:
            return OrderTicket(
                product_id,
                side,
                key,
                configuration,
                Decimal(0),
                None,
                None,
                None,
                False,
                None,
                self._check_quote_size(product, side, params["quote_size"]),
            )
        size = self._check_size(product, _decimal(params.get("base_size"), "base_size"))
        limit = stop = None
        direction = None
        if order_type != "MARKET":
            limit = self._check_price(product, _decimal(params.get("limit_price"), "limit_price"), "limit_price")
            if limit * size * product.multiplier < product.quote_min_size:
                raise OrderRejectedError(
                    "INVALID_SIZE_TOO_SMALL",
                    f"notional {limit * size} is below the minimum {product.quote_min_size}",
                    "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL",
                )
        if order_type == "STOP_LIMIT":
            stop = self._check_price(product, _decimal(params.get("stop_price"), "stop_price"), "stop_price")
            direction = str(params.get("stop_direction", ""))
            if direction not in ("STOP_DIRECTION_STOP_UP", "STOP_DIRECTION_STOP_DOWN"):
                raise OrderRejectedError(
                    "INVALID_STOP_DIRECTION",
                    "stop_direction must be STOP_DIRECTION_STOP_UP or STOP_DIRECTION_STOP_DOWN",
                )
        if order_type == "BRACKET":
            stop = self._check_price(
                product, _decimal(params.get("stop_trigger_price"), "stop_trigger_price"), "stop_trigger_price"
            )
            assert limit is not None
            if (side is Side.SELL and stop >= limit) or (side is Side.BUY and stop <= limit):
                raise OrderRejectedError(
                    "INVALID_LIMIT_PRICE",
                    f"a {side} bracket needs its stop trigger {'below' if side is Side.SELL else 'above'} "
                    f"its limit price",
                )
        end_time = None
        if CONFIGURATIONS[key][1] == "GOOD_UNTIL_DATE_TIME":
            try:
                end_time = datetime.fromisoformat(str(params.get("end_time", "")).replace("Z", "+00:00"))
            except ValueError:
                raise OrderRejectedError("INVALID_END_TIME", "end_time must be an RFC 3339 time") from None
        return OrderTicket(
            product_id, side, key, configuration, size, limit, stop, direction, bool(params.get("post_only")), end_time
        )

    @staticmethod
    def _check_size(product: Product, size: Decimal) -> Decimal:
        if size <= 0 or size % product.base_increment:
            raise OrderRejectedError(
                "INVALID_SIZE_PRECISION", f"base_size {size} is not a multiple of {product.base_increment}"
            )
        if size < product.base_min_size:
            raise OrderRejectedError(
                "INVALID_SIZE_TOO_SMALL",
                f"base_size {size} is below the minimum {product.base_min_size}",
                "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL",
            )
        if size > product.base_max_size:
            raise OrderRejectedError(
                "INVALID_SIZE_TOO_LARGE",
                f"base_size {size} is above the maximum {product.base_max_size}",
                "PREVIEW_INVALID_BASE_SIZE_TOO_LARGE",
            )
        return size

    @staticmethod
    def _check_quote_size(product: Product, side: Side, raw: object) -> Decimal:
        """A market order sized in quote: a spot buy only, as at Coinbase (which refuses a quote-sized sell with
        this error and message)."""
        if side is Side.SELL:
            raise OrderRejectedError(
                "UNSUPPORTED_ORDER_CONFIGURATION",
                "rpc error: code = InvalidArgument desc = Market sells must be parameterized in base currency",
                "PREVIEW_INVALID_ORDER_CONFIG",
            )
        if product.is_derivative:
            raise OrderRejectedError(
                "UNSUPPORTED_ORDER_CONFIGURATION",
                "futures and perpetual orders are sized in contracts (base_size)",
                "PREVIEW_INVALID_ORDER_CONFIG",
            )
        size = _decimal(raw, "quote_size")
        if size <= 0 or size % product.quote_increment:
            raise OrderRejectedError(
                "INVALID_QUOTE_SIZE_PRECISION",
                f"quote_size {size} is not a multiple of {product.quote_increment}",
                "PREVIEW_INVALID_QUOTE_SIZE_PRECISION",
            )
        if size < product.quote_min_size:
            raise OrderRejectedError(
                "INVALID_SIZE_TOO_SMALL",
                f"quote_size {size} is below the minimum {product.quote_min_size}",
                "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL",
            )
        return size

    @staticmethod
    def _check_price(product: Product, price: Decimal, name: str) -> Decimal:
        if price <= 0 or price % product.quote_increment:
            raise OrderRejectedError(
                "INVALID_PRICE_PRECISION", f"{name} {price} is not a multiple of {product.quote_increment}"
            )
        return price

    # -- orders ---------------------------------------------------------------------------------------
    def preview(self, ticket: OrderTicket) -> dict[str, Decimal]:
        """What the order would cost now, without placing it."""
        with self.lock:
            if ticket.quote_size is not None:
                spent = self._spend(ticket)
                fills = [(p, s) for p, s, _ in spent]
                size = sum((s for _, s in fills), Decimal(0))
                notional = value = sum((p * s for p, s in fills), Decimal(0))
                fee = sum((f for _, _, f in spent), Decimal(0))
                resting = Decimal(0)
            else:
                fills = self._entry_fills(ticket, ticket.base_size)
                size = sum((s for _, s in fills), Decimal(0))
                value = sum((p * s for p, s in fills), Decimal(0))
                multiplier = self.listings[ticket.product_id].product.multiplier
                resting = ticket.base_size - size if ticket.time_in_force in RESTING else Decimal(0)
                notional = (value + resting * (ticket.limit_price or Decimal(0))) * multiplier
                fee = self.fees.fee(notional, Liquidity.TAKER)
            self._check_funds(ticket, fills, resting)
            mid = self.mid(ticket.product_id)
            return {
                "quote_size": notional,
                "base_size": size if ticket.quote_size is not None else ticket.base_size,
                "commission_total": fee,
                "slippage": abs(value / size - mid) / mid if size else Decimal(0),
                "best_bid": self.book(ticket.product_id, Side.BUY, 1)[0][0],
                "best_ask": self.book(ticket.product_id, Side.SELL, 1)[0][0],
            }

    def create(self, client_order_id: str, ticket: OrderTicket) -> tuple[SandboxOrder, bool]:
        """Place an order; returns (order, created). A client order id seen before returns its order."""
        with self.lock:
            existing = self.by_client_id.get(client_order_id)
            if existing is not None:
                return self.orders[existing], False
            self.advance()
            spent: list[tuple[Decimal, Decimal, Decimal | None]]
            if ticket.quote_size is not None:
                spent = list(self._spend(ticket))
                ticket = replace(ticket, base_size=sum((s for _, s, _ in spent), Decimal(0)))
            else:
                spent = [(p, s, None) for p, s in self._entry_fills(ticket, ticket.base_size)]
            fills = [(p, s) for p, s, _ in spent]
            rests = ticket.time_in_force in RESTING
            resting = ticket.base_size - sum((s for _, s in fills), Decimal(0)) if rests else Decimal(0)
            self._check_funds(ticket, fills, resting)
            product = self.listings[ticket.product_id].product
            now = self.clock.wall.utc()
            order = SandboxOrder(
                order_id=str(uuid.uuid4()),
                client_order_id=client_order_id,
                ticket=ticket,
                created_time=now,
                product_type=product.product_type,
                base_size=ticket.base_size,
                limit_price=ticket.limit_price,
                checked_position=self.clock.position(),
                triggered=ticket.order_type == "STOP_LIMIT" and self._stop_reached(ticket),
            )
            self.orders[order.order_id] = order
            self.by_client_id[client_order_id] = order.order_id
            for price, size, fee in spent:
                self._execute(order, price, size, Liquidity.TAKER, now, fee)
            self._settle_entry(order, rests)
            if ticket.quote_size is not None and order.filled_value + order.total_fees < ticket.quote_size:
                order.status = "CANCELLED"  # the book ran out before the quote was spent: IOC ends there
            return order, True

    def edit(self, order_id: str, size: Decimal, price: Decimal, *, dry_run: bool) -> dict[str, Decimal]:
        """Change a resting GTC limit order's size and price, as Coinbase's edit does (or only check it)."""
        with self.lock:
            self.advance()
            order = self.orders.get(order_id)
            if order is None:
                raise OrderRejectedError("ORDER_NOT_FOUND", f"order {order_id} not found")
            if order.status != "OPEN":
                raise OrderRejectedError("ONLY_OPEN_ORDERS_CAN_BE_EDITED", f"order {order_id} is {order.status}")
            if order.ticket.configuration_key != "limit_limit_gtc":
                raise OrderRejectedError("ONLY_LIMIT_ORDER_EDITS_SUPPORTED", "only GTC limit orders can be edited")
            product = self.listings[order.product_id].product
            try:
                self._check_size(product, size)
            except OrderRejectedError as exc:
                raise OrderRejectedError("INVALID_EDITED_SIZE", exc.message) from None
            if size <= order.filled_size:
                raise OrderRejectedError(
                    "CANNOT_EDIT_TO_BELOW_FILLED_SIZE", f"size {size} is not above the filled size {order.filled_size}"
                )
            try:
                self._check_price(product, price, "price")
            except OrderRejectedError as exc:
                raise OrderRejectedError("INVALID_EDITED_PRICE", exc.message) from None
            if size == order.base_size and price == order.limit_price:
                raise OrderRejectedError("EDIT_REQUEST_EQUAL_TO_ORIGINAL_REQUEST", "nothing would change")
            edited = OrderTicket(
                order.product_id,
                order.side,
                order.ticket.configuration_key,
                order.ticket.configuration,
                size,
                price,
                None,
                None,
                order.ticket.post_only,
                None,
            )
            fills = self._entry_fills(edited, size - order.filled_size)
            taken = sum((s for _, s in fills), Decimal(0))
            # Funds are checked for what is left to fill, with this order's own hold given back first.
            self._release(order, order.hold)
            try:
                self._check_funds(
                    replace(edited, base_size=size - order.filled_size), fills, size - order.filled_size - taken
                )
            except OrderRejectedError:
                self._settle_entry(order, True)
                raise
            if dry_run:
                self._settle_entry(order, True)
                value = sum((p * s for p, s in fills), Decimal(0))
                return {
                    "quote_size": value + (size - order.filled_size - taken) * price,
                    "base_size": size,
                    "commission_total": self.fees.fee(value, Liquidity.TAKER),
                }
            order.base_size, order.limit_price = size, price
            order.ticket = edited
            now = self.clock.wall.utc()
            for fill_price, fill_size in fills:
                self._execute(order, fill_price, fill_size, Liquidity.TAKER, now)
            self._settle_entry(order, True)
            return {}

    def cancel(self, order_id: str) -> tuple[bool, str]:
        with self.lock:
            order = self.orders.get(order_id)
            if order is None:
                return False, "UNKNOWN_CANCEL_ORDER"
            if order.status in TERMINAL:
                return (
                    False,
                    "DUPLICATE_CANCEL_REQUEST" if order.status == "CANCELLED" else "UNKNOWN_CANCEL_FAILURE_REASON",
                )
            self._finish(order, "CANCELLED", "User requested cancel")
            return True, ""

    def close_position(self, client_order_id: str, product_id: str, size: Decimal | None) -> SandboxOrder:
        """A market order that takes a futures or perpetual position (or `size` of it) toward flat; it never
        opens the reverse. A client order id seen before returns its order, as create does, even once the
        position it closed is gone. Coinbase's reference promises no capping, so a size above the position
        is refused rather than cut: a bot that copes with the refusal also copes with a venue that caps."""
        with self.lock:
            existing = self.by_client_id.get(client_order_id)
            if existing is not None:
                return self.orders[existing]
            listing = self.listing(product_id)
            if not listing.product.is_derivative:
                raise OrderRejectedError("INVALID_PRODUCT_ID", f"{product_id} has no position to close")
            self.advance()  # fills due by now land first: the position closed is the one held now
            held = self.margin_account(listing.product).position(listing.product).contracts
            if held == 0:
                raise OrderRejectedError("INVALID_REQUEST", f"no open position in {product_id}")
            amount = abs(held) if size is None else size
            if amount > abs(held):
                raise OrderRejectedError("INVALID_REQUEST", f"size {amount} exceeds the position of {abs(held)}")
            side = Side.SELL if held > 0 else Side.BUY
            config = {"market_market_ioc": {"base_size": str(amount)}}
            ticket = self.parse({"product_id": product_id, "side": side.value, "order_configuration": config})
            return self.create(client_order_id, ticket)[0]

    # -- the market moves ------------------------------------------------------------------------------
    def advance(self) -> None:
        """Bring resting orders and positions up to the current market position."""
        with self.lock:
            position = self.clock.position()
            now = self.clock.wall.utc()
            self._accrue_funding()
            for order in list(self.orders.values()):
                if order.status != "OPEN":
                    continue
                if order.ticket.end_time is not None and now >= order.ticket.end_time:
                    self._finish(order, "EXPIRED", "")
                    continue
                if position <= order.checked_position:
                    continue
                _, high, low, _, volume = self.paths[order.product_id].span(order.checked_position, position)
                order.checked_position = position
                self._on_path(order, Decimal(repr(high)), Decimal(repr(low)), Decimal(repr(volume)), now)

    def _on_path(self, order: SandboxOrder, high: Decimal, low: Decimal, volume: Decimal, now: datetime) -> None:
        ticket = order.ticket
        if ticket.order_type == "STOP_LIMIT" and not order.triggered:
            up = ticket.stop_direction == "STOP_DIRECTION_STOP_UP"
            assert ticket.stop_price is not None
            if (up and high >= ticket.stop_price) or (not up and low <= ticket.stop_price):
                order.triggered = True
                # The path is continuous, so it traded at the stop price: execute against that book.
                stop_book = self._walk(
                    order.product_id, order.side, order.remaining, order.limit_price, ticket.stop_price
                )
                for price, size in stop_book:
                    self._execute(order, price, size, Liquidity.TAKER, now)
                self._finish_if_filled(order)
            return
        if ticket.order_type == "BRACKET":
            assert ticket.stop_price is not None
            stopped = low <= ticket.stop_price if order.side is Side.SELL else high >= ticket.stop_price
            if stopped:  # the stop leg wins a tie: the pessimistic reading of a bar that touched both
                order.triggered = True
                for price, size in self._walk(order.product_id, order.side, order.remaining, None, ticket.stop_price):
                    self._execute(order, price, size, Liquidity.TAKER, now)
                if order.remaining > 0:
                    self._finish(order, "CANCELLED", "stop leg found no liquidity for the rest")
                else:
                    self._finish_if_filled(order)
                return
        assert order.limit_price is not None
        crossed = low <= order.limit_price if order.side is Side.BUY else high >= order.limit_price
        if not crossed:
            return
        increment = self.listings[order.product_id].product.base_increment
        size = min(order.remaining, (volume * self.maker_participation // increment) * increment)
        if size > 0:
            self._execute(order, order.limit_price, size, Liquidity.MAKER, now)
            self._finish_if_filled(order)

    def _accrue_funding(self) -> None:
        """Each perpetual and perpetual-style position pays its funding for every hour it was held into
        (gpttrader.domain.funding: the backtest's and the paper venue's rule), at the close of the hour's
        first minute once that minute has closed, into its margin account's balance when it settles (every
        hour on INTX, twice a day on CFM). Positions change only at fills, and this runs before each: the
        contracts held now were held since the last run."""
        now = self.clock.wall.utc()
        closed = now - timedelta(minutes=1)  # an hour's first minute has closed by then
        for account in (self.intx, self.cfm):
            for held in account.positions.values():
                if not pays_funding(held.product):
                    continue
                if held.funded_through is None or not (held.contracts or held.accrued_funding):
                    held.funded_through = max(held.funded_through or closed, closed)
                    continue
                for hour in funding_times(held.funded_through, closed):
                    position = self.clock.position((hour + timedelta(minutes=1)).timestamp())
                    mark = self.mid(held.product.product_id, position)
                    payment = funding_payment(held.contracts, mark, held.multiplier, FUNDING_RATE_PER_HOUR)
                    held.funding += payment
                    held.accrued_funding, settled = accrue_funding(held.accrued_funding, payment, held.product, hour)
                    account.balance -= settled
                    held.funded_through = hour

    # -- internals ------------------------------------------------------------------------------------
    def _stop_reached(self, ticket: OrderTicket) -> bool:
        assert ticket.stop_price is not None
        mid = self.mid(ticket.product_id)
        return (
            mid >= ticket.stop_price if ticket.stop_direction == "STOP_DIRECTION_STOP_UP" else mid <= ticket.stop_price
        )

    def _entry_fills(self, ticket: OrderTicket, size: Decimal) -> list[tuple[Decimal, Decimal]]:
        """Taker fills at entry: none for an untriggered stop, all-or-nothing for FOK."""
        if ticket.order_type == "STOP_LIMIT" and not self._stop_reached(ticket):
            return []
        fills = self._walk(ticket.product_id, ticket.side, size, ticket.limit_price)
        if ticket.post_only and fills:
            raise OrderRejectedError("INVALID_LIMIT_PRICE_POST_ONLY", "a post-only order would take liquidity")
        if ticket.time_in_force == "FILL_OR_KILL" and sum((s for _, s in fills), Decimal(0)) < size:
            return []
        return fills

    def _spend(self, ticket: OrderTicket) -> list[tuple[Decimal, Decimal, Decimal]]:
        """The taker fills of a quote-sized market buy, as (price, base size, fee). The quote pays value and fees
        alike (Coinbase's size_inclusive_of_fees): each level takes what the rest of the quote buys after the
        fee, and the last fill's fee is what is left, so value plus fees is the quote to the last digit."""
        assert ticket.quote_size is not None
        rate = self.fees.taker
        left = ticket.quote_size
        fills: list[tuple[Decimal, Decimal, Decimal]] = []
        for price, level in self.book(ticket.product_id, Side.SELL):
            size = min(level, (left / (1 + rate) / price).quantize(QUOTE_FILL_QUANTUM, ROUND_DOWN))
            if size <= 0:
                if fills:  # dust below the smallest size: it is the last fill's fee
                    last_price, last_size, last_fee = fills[-1]
                    fills[-1] = (last_price, last_size, last_fee + left)
                break
            value = price * size
            fee = value * rate if size == level else left - value
            fills.append((price, size, fee))
            left -= value + fee
            if size < level:
                break
        return fills

    def _walk(
        self, product_id: str, side: Side, size: Decimal, limit: Decimal | None, mid: Decimal | None = None
    ) -> list[tuple[Decimal, Decimal]]:
        fills: list[tuple[Decimal, Decimal]] = []
        remaining = size
        for price, level_size in self.book(product_id, side.opposite, mid=mid):
            if remaining <= 0 or (limit is not None and (price > limit if side is Side.BUY else price < limit)):
                break
            take = min(remaining, level_size)
            fills.append((price, take))
            remaining -= take
        return fills

    def _hold_price(self, ticket: OrderTicket) -> Decimal:
        assert ticket.limit_price is not None
        if ticket.order_type == "BRACKET" and ticket.side is Side.BUY:
            assert ticket.stop_price is not None
            return ticket.stop_price * BRACKET_HOLD_BUFFER
        return ticket.limit_price

    def _needed(
        self, ticket: OrderTicket, fills: list[tuple[Decimal, Decimal]], resting: Decimal
    ) -> tuple[str, Decimal]:
        """(what funds it, how much): a wallet currency for spot, a margin venue for derivatives."""
        product = self.listings[ticket.product_id].product
        taker_value = sum((p * s for p, s in fills), Decimal(0))
        if product.is_derivative:
            account = self.margin_account(product)
            signed = ticket.base_size if ticket.side is Side.BUY else -ticket.base_size
            exposure = account.added_exposure(product, signed)
            price = self._hold_price(ticket) if ticket.limit_price is not None else self.mid(ticket.product_id)
            notional = exposure * price * product.multiplier
            fee = self.fees.fee(ticket.base_size * price * product.multiplier, Liquidity.TAKER)
            return account.venue, notional * account.margin_rate(product) + fee
        if ticket.quote_size is not None:
            return product.quote_currency, ticket.quote_size
        if ticket.side is Side.BUY:
            rest = resting * self._hold_price(ticket) if resting else Decimal(0)
            return product.quote_currency, (taker_value + rest) * (1 + self.fees.taker)
        return product.base_currency, ticket.base_size

    def _check_funds(self, ticket: OrderTicket, fills: list[tuple[Decimal, Decimal]], resting: Decimal) -> None:
        source, amount = self._needed(ticket, fills, resting)
        if source in ("CFM", "INTX"):
            account = self.cfm if source == "CFM" else self.intx
            available = account.available_margin(self.marks())
            currency = account.currency
        else:
            wallet = self.accounts.get(source)
            available, currency = (wallet.available if wallet else Decimal(0)), source
        if available < amount:
            raise OrderRejectedError("INSUFFICIENT_FUND", f"needs {amount:.8f} {currency}, available {available:.8f}")

    def _settle_entry(self, order: SandboxOrder, rests: bool) -> None:
        """After the taker phase: hold for what rests, or end the order."""
        if order.remaining == 0:
            order.status = "FILLED"
            return
        if not rests:
            order.status = "CANCELLED"
            order.cancel_message = "IOC/FOK order was not fully filled" if order.order_type == "LIMIT" else ""
            return
        product = self.listings[order.product_id].product
        price = self._hold_price(order.ticket) if order.limit_price is not None else Decimal(0)
        if product.is_derivative:
            account = self.margin_account(product)
            signed = order.remaining if order.side is Side.BUY else -order.remaining
            exposure = account.added_exposure(product, signed)
            amount = exposure * price * product.multiplier * account.margin_rate(product)
            account.hold += amount
        elif order.side is Side.BUY:
            amount = order.remaining * price * (1 + self.fees.taker)
            self.wallet(product.quote_currency).available -= amount
            self.wallet(product.quote_currency).hold += amount
        else:
            amount = order.remaining
            self.wallet(product.base_currency).available -= amount
            self.wallet(product.base_currency).hold += amount
        order.hold = amount

    def _release(self, order: SandboxOrder, amount: Decimal) -> None:
        amount = min(amount, order.hold)
        if amount <= 0:
            return
        product = self.listings[order.product_id].product
        if product.is_derivative:
            self.margin_account(product).hold -= amount
        else:
            wallet = self.wallet(product.quote_currency if order.side is Side.BUY else product.base_currency)
            wallet.hold -= amount
            wallet.available += amount
        order.hold -= amount

    def wallet(self, currency: str) -> Account:
        if currency not in self.accounts:
            self.accounts[currency] = Account(_account_uuid(currency), currency, Decimal(0))
        return self.accounts[currency]

    def _execute(
        self,
        order: SandboxOrder,
        price: Decimal,
        size: Decimal,
        liquidity: Liquidity,
        now: datetime,
        fee: Decimal | None = None,
    ) -> None:
        """One fill; `fee` where the order sets it (a quote-sized buy's last fill), else the schedule's."""
        product = self.listings[order.product_id].product
        notional = price * size * product.multiplier
        fee = self.fees.fee(notional, liquidity) if fee is None else fee
        if order.hold > 0:
            self._release(order, order.hold * size / order.remaining)
        if product.is_derivative:
            account = self.margin_account(product)
            held = account.position(product)
            realized = held.apply(size if order.side is Side.BUY else -size, price)
            held.fees += fee
            account.balance += realized - fee
        elif order.side is Side.BUY:
            self.wallet(product.quote_currency).available -= notional + fee
            self.wallet(product.base_currency).available += size
        else:
            self.wallet(product.base_currency).available -= size
            self.wallet(product.quote_currency).available += notional - fee
        order.filled_size += size
        order.filled_value += price * size
        order.total_fees += fee
        order.last_fill_time = now
        order.fill_count += 1
        fill = SandboxFill(
            str(uuid.uuid4()),
            str(uuid.uuid4()),
            order.order_id,
            order.client_order_id,
            order.product_id,
            order.side,
            price,
            size,
            fee,
            liquidity,
            now,
            order.ticket.quote_size is not None,
        )
        self.fills.append(fill)
        if self.on_fill is not None:
            self.on_fill(order, fill)

    def _finish_if_filled(self, order: SandboxOrder) -> None:
        if order.remaining == 0:
            self._finish(order, "FILLED", "")

    def _finish(self, order: SandboxOrder, status: str, message: str) -> None:
        self._release(order, order.hold)
        order.status = status
        order.cancel_message = message


def _account_uuid(currency: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox/{currency}"))


def _decimal(value: object, name: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise OrderRejectedError("INVALID_REQUEST", f"{name} must be a decimal string, got {value!r}") from None
    if not result.is_finite():
        raise OrderRejectedError("INVALID_REQUEST", f"{name} must be finite")
    return result
