"""The sandbox's matching engine and accounts.

Orders match in two phases. On entry, the marketable part walks a synthetic book around the current
price (taker fills, level by level, so size moves the price). What is left rests (GTC, GTD) or is
cancelled (IOC, market); FOK fills whole or not at all. A resting order fills as maker when the price
path trades through its limit, at most a share of the volume traded meanwhile, so large orders fill in
parts. Balances carry holds for resting orders, released as the order fills or ends.
"""

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from gpttrader.brokers.simulated import FeeSchedule, synthetic_book
from gpttrader.domain import Liquidity, ProductType, Side
from gpttrader.sandbox.catalog import Listing
from gpttrader.sandbox.prices import MarketClock, PricePath

# Coinbase's order_configuration keys for what the matching engine executes, with their time in force.
CONFIGURATIONS: dict[str, tuple[str, str]] = {
    "market_market_ioc": ("MARKET", "IMMEDIATE_OR_CANCEL"),
    "market_market_fok": ("MARKET", "FILL_OR_KILL"),
    "limit_limit_gtc": ("LIMIT", "GOOD_UNTIL_CANCELLED"),
    "limit_limit_gtd": ("LIMIT", "GOOD_UNTIL_DATE_TIME"),
    "limit_limit_fok": ("LIMIT", "FILL_OR_KILL"),
    "sor_limit_ioc": ("LIMIT", "IMMEDIATE_OR_CANCEL"),
}
TERMINAL = frozenset({"FILLED", "CANCELLED", "EXPIRED", "FAILED"})


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
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


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


@dataclass
class SandboxOrder:
    order_id: str
    client_order_id: str
    product_id: str
    side: Side
    configuration_key: str
    configuration: dict[str, Any]
    order_type: str
    time_in_force: str
    base_size: Decimal
    limit_price: Decimal | None
    post_only: bool
    end_time: datetime | None
    created_time: datetime
    status: str = "OPEN"
    filled_size: Decimal = Decimal(0)
    filled_value: Decimal = Decimal(0)
    total_fees: Decimal = Decimal(0)
    hold: Decimal = Decimal(0)
    hold_currency: str = ""
    last_fill_time: datetime | None = None
    fill_count: int = 0
    cancel_message: str = ""
    checked_position: float = 0.0

    @property
    def remaining(self) -> Decimal:
        return self.base_size - self.filled_size

    @property
    def average_price(self) -> Decimal:
        return self.filled_value / self.filled_size if self.filled_size else Decimal(0)


@dataclass(frozen=True, slots=True)
class OrderTicket:
    """A parsed create-order request, before it touches any state."""

    product_id: str
    side: Side
    configuration_key: str
    configuration: dict[str, Any]
    base_size: Decimal
    limit_price: Decimal | None
    post_only: bool
    end_time: datetime | None


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
        self.accounts = {
            c: Account(str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox/{c}")), c, amount)
            for c, amount in starting_balances.items()
        }
        self.orders: dict[str, SandboxOrder] = {}
        self.by_client_id: dict[str, str] = {}
        self.fills: list[SandboxFill] = []
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
        listing = self.listings[product_id]
        return Decimal(repr(price)).quantize(listing.product.quote_increment)

    def book(self, product_id: str, side: Side, levels: int = 20) -> list[tuple[Decimal, Decimal]]:
        listing = self.listing(product_id)
        return [
            (lv.price, lv.size) for lv in synthetic_book(listing.product, self.mid(product_id), side, levels=levels)
        ]

    # -- orders ---------------------------------------------------------------------------------------
    def parse(self, body: dict[str, Any]) -> OrderTicket:
        product_id = str(body.get("product_id", ""))
        if not self.visible(product_id):
            raise OrderRejectedError("INVALID_PRODUCT_ID", f"product {product_id!r} is not available")
        listing = self.listings[product_id]
        if listing.product.product_type is not ProductType.SPOT:
            raise OrderRejectedError(
                "UNSUPPORTED_ORDER_CONFIGURATION", "the sandbox matches spot orders only in this version"
            )
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
        product = listing.product
        size = _decimal(params.get("base_size"), "base_size")
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
        limit = None
        if CONFIGURATIONS[key][0] == "LIMIT":
            limit = _decimal(params.get("limit_price"), "limit_price")
            if limit <= 0 or limit % product.quote_increment:
                raise OrderRejectedError(
                    "INVALID_PRICE_PRECISION", f"limit_price {limit} is not a multiple of {product.quote_increment}"
                )
            if limit * size < product.quote_min_size:
                raise OrderRejectedError(
                    "INVALID_SIZE_TOO_SMALL",
                    f"notional {limit * size} is below the minimum {product.quote_min_size}",
                    "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL",
                )
        end_time = None
        if key == "limit_limit_gtd":
            try:
                end_time = datetime.fromisoformat(str(params.get("end_time", "")).replace("Z", "+00:00"))
            except ValueError:
                raise OrderRejectedError("INVALID_END_TIME", "end_time must be an RFC 3339 time") from None
        return OrderTicket(product_id, side, key, configuration, size, limit, bool(params.get("post_only")), end_time)

    def preview(self, ticket: OrderTicket) -> dict[str, Decimal]:
        """What the order would cost now, without placing it: quote size, base size, fees, and the slippage."""
        with self.lock:
            fills = self._walk(ticket.product_id, ticket.side, ticket.base_size, ticket.limit_price)
            if ticket.post_only and fills:
                raise OrderRejectedError("INVALID_LIMIT_PRICE_POST_ONLY", "a post-only order would take liquidity")
            size = sum((s for _, s in fills), Decimal(0))
            value = sum((p * s for p, s in fills), Decimal(0))
            resting = ticket.base_size - size if ticket.limit_price is not None else Decimal(0)
            notional = value + resting * (ticket.limit_price or Decimal(0))
            fee = self.fees.fee(notional, Liquidity.TAKER)
            self._check_funds(ticket, notional + fee, ticket.base_size)
            mid = self.mid(ticket.product_id)
            slippage = abs(value / size - mid) / mid if size else Decimal(0)
            return {
                "quote_size": notional,
                "base_size": ticket.base_size,
                "commission_total": fee,
                "slippage": slippage,
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
            order_type, tif = CONFIGURATIONS[ticket.configuration_key]
            fills = self._walk(ticket.product_id, ticket.side, ticket.base_size, ticket.limit_price)
            if ticket.post_only and fills:
                raise OrderRejectedError("INVALID_LIMIT_PRICE_POST_ONLY", "a post-only order would take liquidity")
            fill_size = sum((s for _, s in fills), Decimal(0))
            if tif == "FILL_OR_KILL" and fill_size < ticket.base_size:
                fills = []  # checked below as a cancelled order with nothing filled
            listing = self.listings[ticket.product_id]
            taker_cost = sum((p * s for p, s in fills), Decimal(0))
            rests = tif in ("GOOD_UNTIL_CANCELLED", "GOOD_UNTIL_DATE_TIME")
            resting = ticket.base_size - sum((s for _, s in fills), Decimal(0)) if rests else Decimal(0)
            quote_needed = taker_cost * (1 + self.fees.taker)
            if rests and ticket.limit_price is not None:
                quote_needed += resting * ticket.limit_price * (1 + self.fees.taker)
            self._check_funds(ticket, quote_needed, ticket.base_size)
            now = datetime.now(UTC)
            order = SandboxOrder(
                order_id=str(uuid.uuid4()),
                client_order_id=client_order_id,
                product_id=ticket.product_id,
                side=ticket.side,
                configuration_key=ticket.configuration_key,
                configuration=ticket.configuration,
                order_type=order_type,
                time_in_force=tif,
                base_size=ticket.base_size,
                limit_price=ticket.limit_price,
                post_only=ticket.post_only,
                end_time=ticket.end_time,
                created_time=now,
                checked_position=self.clock.position(),
            )
            self.orders[order.order_id] = order
            self.by_client_id[client_order_id] = order.order_id
            for price, size in fills:
                self._execute(order, price, size, Liquidity.TAKER, now)
            if rests and order.remaining > 0:
                # Hold what the resting part may cost (buys, in quote, with the taker fee as Coinbase does)
                # or deliver (sells, in base); maker fills release it in proportion.
                product = listing.product
                if ticket.side is Side.BUY:
                    order.hold_currency = product.quote_currency
                    order.hold = order.remaining * (ticket.limit_price or Decimal(0)) * (1 + self.fees.taker)
                else:
                    order.hold_currency, order.hold = product.base_currency, order.remaining
                self._move_to_hold(order.hold_currency, order.hold)
            if order.remaining == 0:
                order.status = "FILLED"
            elif not rests:
                order.status = "CANCELLED"
                order.cancel_message = "IOC/FOK order was not fully filled" if order.order_type == "LIMIT" else ""
            return order, True

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

    def advance(self) -> None:
        """Bring resting orders up to the current market position: maker fills and GTD expiries."""
        with self.lock:
            position = self.clock.position()
            now = datetime.now(UTC)
            for order in list(self.orders.values()):
                if order.status != "OPEN":
                    continue
                if order.end_time is not None and now >= order.end_time:
                    self._finish(order, "EXPIRED", "")
                    continue
                if position <= order.checked_position:
                    continue
                path = self.paths[order.product_id]
                _, high, low, _, volume = path.span(order.checked_position, position)
                order.checked_position = position
                assert order.limit_price is not None
                crossed = (
                    low <= float(order.limit_price) if order.side is Side.BUY else high >= float(order.limit_price)
                )
                if not crossed:
                    continue
                product = self.listings[order.product_id].product
                available = Decimal(repr(volume)) * self.maker_participation
                size = min(order.remaining, (available // product.base_increment) * product.base_increment)
                if size > 0:
                    self._execute(order, order.limit_price, size, Liquidity.MAKER, now)
                    if order.remaining == 0:
                        order.status = "FILLED"

    # -- internals ------------------------------------------------------------------------------------
    def _walk(self, product_id: str, side: Side, size: Decimal, limit: Decimal | None) -> list[tuple[Decimal, Decimal]]:
        """Taker fills for `size` against the opposite side of the book, not beyond `limit`."""
        levels = self.book(product_id, side.opposite)
        fills: list[tuple[Decimal, Decimal]] = []
        remaining = size
        for price, level_size in levels:
            if remaining <= 0:
                break
            if limit is not None and (price > limit if side is Side.BUY else price < limit):
                break
            take = min(remaining, level_size)
            fills.append((price, take))
            remaining -= take
        return fills

    def _check_funds(self, ticket: OrderTicket, quote_needed: Decimal, base_needed: Decimal) -> None:
        product = self.listings[ticket.product_id].product
        if ticket.side is Side.BUY:
            account = self.accounts.get(product.quote_currency)
            if account is None or account.available < quote_needed:
                have = account.available if account else Decimal(0)
                raise OrderRejectedError(
                    "INSUFFICIENT_FUND", f"needs {quote_needed:.2f} {product.quote_currency}, available {have}"
                )
        else:
            account = self.accounts.get(product.base_currency)
            if account is None or account.available < base_needed:
                have = account.available if account else Decimal(0)
                raise OrderRejectedError(
                    "INSUFFICIENT_FUND", f"needs {base_needed} {product.base_currency}, available {have}"
                )

    def _account(self, currency: str) -> Account:
        if currency not in self.accounts:
            self.accounts[currency] = Account(
                str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox/{currency}")), currency, Decimal(0)
            )
        return self.accounts[currency]

    def _move_to_hold(self, currency: str, amount: Decimal) -> None:
        account = self._account(currency)
        account.available -= amount
        account.hold += amount

    def _release_hold(self, order: SandboxOrder, amount: Decimal) -> None:
        amount = min(amount, order.hold)
        if amount <= 0:
            return
        account = self._account(order.hold_currency)
        account.hold -= amount
        account.available += amount
        order.hold -= amount

    def _execute(self, order: SandboxOrder, price: Decimal, size: Decimal, liquidity: Liquidity, now: datetime) -> None:
        product = self.listings[order.product_id].product
        notional = price * size
        fee = self.fees.fee(notional, liquidity)
        if order.hold > 0:
            share = order.hold * size / order.remaining
            self._release_hold(order, share)
        quote, base = self._account(product.quote_currency), self._account(product.base_currency)
        if order.side is Side.BUY:
            quote.available -= notional + fee
            base.available += size
        else:
            base.available -= size
            quote.available += notional - fee
        order.filled_size += size
        order.filled_value += notional
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
        )
        self.fills.append(fill)
        if self.on_fill is not None:
            self.on_fill(order, fill)

    def _finish(self, order: SandboxOrder, status: str, message: str) -> None:
        self._release_hold(order, order.hold)
        order.status = status
        order.cancel_message = message


def _decimal(value: object, name: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise OrderRejectedError("INVALID_REQUEST", f"{name} must be a decimal string, got {value!r}") from None
    if not result.is_finite():
        raise OrderRejectedError("INVALID_REQUEST", f"{name} must be finite")
    return result
