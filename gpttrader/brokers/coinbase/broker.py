"""The Coinbase Advanced Trade broker over the official SDK's RESTClient.

Every call goes through the rate limiter and the retry policy, every failure comes out as a BrokerError,
and every order is quantized to its product and checked against the product's minimums before it is
sent. Perpetuals are refused unless derivatives are enabled.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from coinbase.rest import RESTClient

from gpttrader.brokers.coinbase import failures, mapping
from gpttrader.brokers.coinbase.encoding import order_configuration
from gpttrader.brokers.coinbase.market_data import CoinbaseMarketData
from gpttrader.brokers.coinbase.ratelimit import TokenBucket
from gpttrader.brokers.coinbase.retry import RetryPolicy, guarded
from gpttrader.brokers.errors import InvalidOrderError, MalformedAnswerError, UnsupportedOrderError
from gpttrader.brokers.protocol import EventSink, FeeRates, MarginSummary, OrderPreview, Stream
from gpttrader.domain import (
    Balance,
    Candle,
    Fill,
    Granularity,
    Order,
    OrderBook,
    OrderRejected,
    OrderRequest,
    OrderType,
    Position,
    PreparedOrder,
    Product,
    ProductType,
    Quote,
    prepare_order,
)
from gpttrader.domain.symbols import is_perpetual_id

T = TypeVar("T")
log = logging.getLogger(__name__)
# Entries asked for per page: the most Coinbase gives for accounts (orders and fills allow more).
PAGE_SIZE = 250
# Pages read of one listing before the walk is given up as an error: a venue that keeps answering new cursors
# must not loop forever, and a listing cut short is never taken for the whole.
MAX_PAGES = 1000


@dataclass(frozen=True, slots=True)
class KeyPermissions:
    can_view: bool
    can_trade: bool
    can_transfer: bool
    portfolio_type: str


class CoinbaseBroker:
    def __init__(
        self,
        client: RESTClient,
        *,
        derivatives_enabled: bool = False,
        retry: RetryPolicy | None = None,
        private_limit: TokenBucket | None = None,
        public_limit: TokenBucket | None = None,
        streams: Callable[[EventSink], Stream] | None = None,
        page_size: int = PAGE_SIZE,
        max_pages: int = MAX_PAGES,
    ) -> None:
        """`streams` builds the account's WebSocket feed (`factory.create_stream`); without it, none. Paged
        listings are read `page_size` entries a page, at most `max_pages` pages."""
        self._client = client
        self._page_size = page_size
        self._max_pages = max_pages
        self._streams = streams
        self.derivatives_enabled = derivatives_enabled
        self.retry = retry or RetryPolicy()
        self._private = private_limit or TokenBucket(30)
        self._public = public_limit or TokenBucket(10)
        self._market = CoinbaseMarketData(client, retry=self.retry, limit=self._public)
        self._catalog: dict[str, Product] = {}
        self._client_ids: dict[str, str] = {}  # exchange order id -> client order id, for fills
        self._skipped: set[str] = set()  # listed orders of kinds the bot never places, reported once each
        self._lock = threading.Lock()

    # -- plumbing -------------------------------------------------------------------------------------
    def _call(self, what: str, call: Callable[[], T], *, public: bool = False, safe_to_retry: bool = True) -> T:
        bucket = self._public if public else self._private
        return guarded(call, bucket=bucket, retry=self.retry, what=what, safe_to_retry=safe_to_retry)

    def _read(
        self,
        what: str,
        call: Callable[[], Any],
        parse: Callable[[dict[str, Any]], T],
        *,
        public: bool = False,
        safe_to_retry: bool = True,
    ) -> T:
        """One call, and its answer read strictly: a missing or malformed field is a MalformedAnswerError
        naming `what`, never a default."""
        response = self._call(what, call, public=public, safe_to_retry=safe_to_retry)
        with mapping.reading(what):
            return parse(mapping.as_dict(response))

    def _pages(self, what: str, call: Callable[[str | None, int], Any], key: str) -> list[dict[str, Any]]:
        """Every entry of a cursor-paged listing, `call(cursor, limit)` a page. A page says there is more by
        `has_next` (orders, accounts) or by a cursor alone (fills, which carry no `has_next`); more without a
        cursor, the same cursor twice, or more than `max_pages` pages is malformed: a listing cut short is
        never taken for the whole."""
        entries: list[dict[str, Any]] = []
        seen: set[str] = set()
        cursor: str | None = None
        for _ in range(self._max_pages):
            page = self._read(what, partial(call, cursor, self._page_size), lambda d: d)
            with mapping.reading(what):
                entries.extend(mapping.items(page, key, what))
                more = page.get("has_next")
                if more is not None and not isinstance(more, bool):
                    raise MalformedAnswerError(f"field 'has_next' is not true/false: {more!r}")
                following = str(page.get("cursor") or "")
                if more is None:
                    more = bool(following)
                if not more:
                    return entries
                if not following or following in seen:
                    raise MalformedAnswerError(f"has_next without a new cursor (cursor {following!r})")
            seen.add(following)
            cursor = following
        raise MalformedAnswerError(f"still more after {self._max_pages} pages; the listing is not read whole", what)

    def _check_derivatives(self, product_id: str) -> None:
        """Refuse a perpetual before the venue is asked, by its id: the product may not be listed yet."""
        if is_perpetual_id(product_id) and not self.derivatives_enabled:
            raise InvalidOrderError(
                f"{product_id} is an INTX perpetual: set COINBASE_ENABLE_DERIVATIVES=1 to trade perpetuals",
                "DERIVATIVES_DISABLED",
            )

    # -- catalog and market data ----------------------------------------------------------------------
    def products(self) -> list[Product]:
        products = self._read(
            "list products",
            self._client.get_products,
            lambda d: [mapping.product(p) for p in mapping.items(d, "products", "list products")],
        )
        products = [p for p in products if p.product_type is not ProductType.PERPETUAL or self.derivatives_enabled]
        with self._lock:
            self._catalog = {p.product_id: p for p in products}
        return products

    def product(self, product_id: str) -> Product:
        self._check_derivatives(product_id)
        with self._lock:
            cached = self._catalog.get(product_id)
        if cached is not None:
            return cached
        found = self._read("get product", lambda: self._client.get_product(product_id), mapping.product)
        with self._lock:
            self._catalog[product_id] = found
        return found

    def quote(self, product_id: str) -> Quote:
        self._check_derivatives(product_id)
        books = self._read(
            "best bid/ask",
            lambda: self._client.get_best_bid_ask(product_ids=[product_id]),
            lambda d: mapping.items(d, "pricebooks", "best bid/ask"),
        )
        return mapping.top_of_book(product_id, books[0] if books else {})

    def order_book(self, product_id: str, levels: int) -> OrderBook:
        self._check_derivatives(product_id)
        return self._read(
            "product book",
            lambda: self._client.get_product_book(product_id=product_id, limit=levels),
            lambda d: mapping.order_book(product_id, mapping.field(d, "pricebook", "product book")),
        )

    def candles(self, product_id: str, granularity: Granularity, start: datetime, end: datetime) -> list[Candle]:
        """One window of candles (at most 350), oldest first, from the public endpoint."""
        return self._market.candles(product_id, granularity, start, end)

    # -- account --------------------------------------------------------------------------------------
    def balances(self) -> list[Balance]:
        """Spot wallets (vaults and perpetuals collateral are not spot balances: see mapping.is_spot_wallet)."""
        accounts = self._pages(
            "list accounts", lambda cursor, limit: self._client.get_accounts(limit=limit, cursor=cursor), "accounts"
        )
        with mapping.reading("list accounts"):
            return [mapping.balance(a) for a in accounts if mapping.is_spot_wallet(a)]

    # -- orders ---------------------------------------------------------------------------------------
    def positions(self) -> list[Position]:
        """Open futures positions (CFM) and, with derivatives on, perpetual positions (INTX).

        Spot holdings are balances; their entry prices are the engine's to track from fills."""
        what = "list futures positions"
        futures = self._read(what, self._client.list_futures_positions, lambda d: mapping.items(d, "positions", what))
        with mapping.reading(what):
            result = [
                mapping.futures_position(p, self.product(str(mapping.field(p, "product_id", what)))) for p in futures
            ]
        if self.derivatives_enabled:
            what = "list perpetual positions"
            for portfolio in self._intx_portfolios():
                perps = self._read(
                    what,
                    partial(self._client.list_perps_positions, portfolio),
                    lambda d: mapping.items(d, "positions", what),
                )
                with mapping.reading(what):
                    result.extend(
                        mapping.perpetual_position(p, self.product(str(mapping.field(p, "symbol", what))))
                        for p in perps
                    )
        return result

    def cash(self, *, derivatives: bool = False) -> dict[str, Decimal]:
        """Spot balances, plus (with `derivatives`) the CFM futures account's USD and, with perpetuals on,
        each INTX portfolio's USDC collateral: separate pools at Coinbase, where realized PnL and funding
        are settled."""
        pools: dict[str, Decimal] = {}
        for balance in self.balances():
            pools[balance.currency] = pools.get(balance.currency, Decimal(0)) + balance.total
        if not derivatives:
            return pools
        what = "futures balance summary"
        cfm = self._read(
            what,
            self._client.get_futures_balance_summary,
            lambda d: mapping.amount(mapping.field(d, "balance_summary", what), "cfm_usd_balance", what),
        )
        pools["USD"] = pools.get("USD", Decimal(0)) + cfm
        if self.derivatives_enabled:
            what = "perpetuals portfolio"
            for portfolio in self._intx_portfolios():
                collateral = self._read(
                    what,
                    partial(self._client.get_perps_portfolio_summary, portfolio),
                    lambda d: [mapping.dec(e, "collateral", what) for e in mapping.items(d, "portfolios", what)],
                )
                pools["USDC"] = pools.get("USDC", Decimal(0)) + sum(collateral, Decimal(0))
        return pools

    def _intx_portfolios(self) -> list[str]:
        what = "list portfolios"
        return self._read(
            what,
            partial(self._client.get_portfolios, portfolio_type="INTX"),
            lambda d: [str(mapping.field(p, "uuid", what)) for p in mapping.items(d, "portfolios", what)],
        )

    def margin_summary(self) -> MarginSummary:
        where = "futures balance summary"

        def parse(data: dict[str, Any]) -> MarginSummary:
            summary = mapping.field(data, "balance_summary", where)
            return MarginSummary(
                total_balance=mapping.amount(summary, "total_usd_balance", where),
                buying_power=mapping.amount(summary, "futures_buying_power", where),
                initial_margin=mapping.amount(summary, "initial_margin", where),
                available_margin=mapping.amount(summary, "available_margin", where),
                unrealized_pnl=mapping.amount(summary, "unrealized_pnl", where),
                liquidation_buffer=mapping.amount(summary, "liquidation_buffer_amount", where),
            )

        return self._read(where, self._client.get_futures_balance_summary, parse)

    def fee_rates(self) -> FeeRates:
        """The account's fee tier, from its transaction summary (spot: the rates a spot order pays)."""
        what = "transaction summary"
        return self._read(
            what, partial(self._client.get_transaction_summary, product_type="SPOT"), partial(mapping.fee_tier, what)
        )

    def intraday_margin_setting(self) -> str:
        what = "intraday margin setting"
        return self._read(
            what, self._client.get_intraday_margin_setting, lambda d: str(mapping.field(d, "setting", what))
        )

    def set_intraday_margin_setting(self, setting: str) -> None:
        self._call("set intraday margin setting", partial(self._client.set_intraday_margin_setting, setting))

    def schedule_sweep(self, usd_amount: Decimal) -> bool:
        """Ask for CFM cash to move back to spot at the next daily sweep."""
        what = "schedule sweep"
        return self._read(
            what,
            partial(self._client.schedule_futures_sweep, str(usd_amount)),
            lambda d: mapping.flag(d, "success", what),
            safe_to_retry=False,
        )

    def cancel_sweep(self) -> bool:
        what = "cancel sweep"
        return self._read(what, self._client.cancel_pending_futures_sweep, lambda d: mapping.flag(d, "success", what))

    def pending_sweeps(self) -> list[Decimal]:
        what = "list sweeps"
        return self._read(
            what,
            self._client.list_futures_sweeps,
            lambda d: [
                mapping.amount(s, "requested_amount", what)
                for s in mapping.items(d, "sweeps", what)
                if mapping.field(s, "status", what) == "PENDING"
            ],
        )

    def prepare(self, request: OrderRequest) -> OrderRequest:
        """Quantize to the product's grid and check its minimums; refusals raise InvalidOrderError."""
        self._check_derivatives(request.product_id)
        try:
            return prepare_order(request, self.product(request.product_id))
        except OrderRejected as exc:
            raise InvalidOrderError(str(exc), exc.reason) from None

    def place_order(self, request: OrderRequest) -> Order:
        """Send an order. Advanced Trade's create order takes no reduce-only field (not for CFM futures, not
        for INTX perpetuals), so a reduce-only market order on a derivative goes out as close position with
        its size and client order id: Coinbase picks the side that shrinks the position it holds and never
        fills past flat, so the order cannot open the reverse even when the bot's view of the position is
        stale. A reduce-only limit or bracket exit has no such route: it goes out as created, and the bot
        sizes it to what it holds. Spot has nothing to send: a sell cannot go short."""
        self._check_derivatives(request.product_id)
        prepared = request if isinstance(request, PreparedOrder) else self.prepare(request)  # the executor's: as is
        if self._closes_position(prepared):
            return self.close_position(prepared.product_id, prepared.client_order_id, prepared.size)
        configuration = order_configuration(prepared)
        # Safe to retry: Coinbase answers a repeated client order id with the order it already made.
        order_id = self._read(
            "create order",
            lambda: self._client.create_order(
                client_order_id=prepared.client_order_id,
                product_id=prepared.product_id,
                side=prepared.side.value,
                order_configuration=configuration,
            ),
            partial(_created_order_id, "create order"),
        )
        return self.get_order(order_id)

    def _closes_position(self, request: OrderRequest) -> bool:
        return (
            request.reduce_only
            and request.order_type is OrderType.MARKET
            and self.product(request.product_id).is_derivative
        )

    def edit_order(self, order_id: str, *, size: Decimal, limit_price: Decimal) -> Order:
        """Amend a resting GTC limit order. Not retried after a failure that may have been processed:
        an edit carries no idempotency key."""
        current = self.get_order(order_id)
        if current.request.order_type is not OrderType.LIMIT:
            raise InvalidOrderError(
                f"order {order_id} is a {current.request.order_type} order; only limit orders can be edited",
                "ONLY_LIMIT_ORDER_EDITS_SUPPORTED",
            )
        prepared = self.prepare(replace(current.request, size=size, limit_price=limit_price))
        what = "edit order"
        data = self._read(
            what,
            partial(
                self._client.edit_order, order_id=order_id, size=str(prepared.size), price=str(prepared.limit_price)
            ),
            lambda d: d,
            safe_to_retry=False,
        )
        with mapping.reading(what):
            accepted = mapping.flag(data, "success", what)
            errors = [] if accepted else mapping.items(data, "errors", what)
        if not accepted:
            reason = str(
                (errors[0] if errors else {}).get("edit_failure_reason") or "UNKNOWN_EDIT_ORDER_FAILURE_REASON"
            )
            raise InvalidOrderError(f"edit of {order_id} refused: {reason}", reason)
        return self.get_order(order_id)

    def close_position(self, product_id: str, client_order_id: str, size: Decimal | None = None) -> Order:
        """Flatten a futures or perpetual position (or `size` contracts of it) with a market order. Safe to
        retry: a repeated client order id is answered with the order it already made, as create's is."""
        self._check_derivatives(product_id)
        kwargs: dict[str, Any] = {"client_order_id": client_order_id, "product_id": product_id}
        if size is not None:
            kwargs["size"] = str(size)
        order_id = self._read(
            "close position",
            partial(self._client.close_position, **kwargs),
            partial(_created_order_id, "close position"),
        )
        return self.get_order(order_id)

    def key_permissions(self) -> KeyPermissions:
        what = "key permissions"
        return self._read(
            what,
            self._client.get_api_key_permissions,
            lambda d: KeyPermissions(
                mapping.flag(d, "can_view", what),
                mapping.flag(d, "can_trade", what),
                mapping.flag(d, "can_transfer", what),
                str(d.get("portfolio_type") or ""),
            ),
        )

    def server_time(self) -> datetime:
        what = "server time"
        return self._read(
            what,
            self._client.get_unix_time,
            lambda d: mapping.timestamp(mapping.field(d, "iso", what), what),
            public=True,
        )

    def stream(self, on_event: EventSink) -> Stream | None:
        """The Advanced Trade WebSocket feed (`streams.CoinbaseStream`): quotes from `ticker`, trades from
        `market_trades`, order updates and fills from `user`, resyncs after a reconnect, a sequence gap or
        an unreadable message. None for a broker built without a feed."""
        return None if self._streams is None else self._streams(on_event)

    def preview_order(self, request: OrderRequest) -> OrderPreview:
        prepared = self.prepare(request)
        where = "order preview"
        return self._read(
            where,
            lambda: self._client.preview_order(
                product_id=prepared.product_id,
                side=prepared.side.value,
                order_configuration=order_configuration(prepared),
            ),
            lambda data: OrderPreview(
                product_id=prepared.product_id,
                quote_size=mapping.dec(data, "quote_size", where, Decimal(0)),
                base_size=mapping.dec(data, "base_size", where, Decimal(0)),
                commission=mapping.dec(data, "commission_total", where, Decimal(0)),
                slippage=mapping.dec(data, "slippage", where, Decimal(0)),
                errors=tuple(str(e) for e in data.get("errs") or ()),
            ),
        )

    def cancel_orders(self, order_ids: list[str]) -> dict[str, bool]:
        if not order_ids:
            return {}
        what = "cancel orders"
        return self._read(
            what,
            lambda: self._client.cancel_orders(order_ids=order_ids),
            lambda d: {
                str(mapping.field(r, "order_id", what)): mapping.flag(r, "success", what)
                for r in mapping.items(d, "results", what)
            },
        )

    def get_order(self, order_id: str) -> Order:
        what = "get order"
        found = self._read(
            what, lambda: self._client.get_order(order_id), lambda d: mapping.order(mapping.field(d, "order", what))
        )
        if found.order_id != order_id:
            raise MalformedAnswerError(f"asked for order {order_id}, got {found.order_id}", what)
        self._remember(found)
        return found

    def list_orders(self, product_id: str | None = None, *, open_only: bool = False) -> list[Order]:
        kwargs: dict[str, Any] = {}
        if product_id is not None:
            kwargs["product_ids"] = [product_id]
        if open_only:
            kwargs["order_status"] = ["OPEN"]
        what = "list orders"
        listed = self._pages(
            what, lambda cursor, limit: self._client.list_orders(cursor=cursor, limit=limit, **kwargs), "orders"
        )
        orders = []
        for entry in listed:
            try:
                with mapping.reading(what):
                    orders.append(mapping.order(entry))
            except UnsupportedOrderError as exc:  # placed by hand in the Coinbase app: not the bot's
                if str(entry.get("order_id")) not in self._skipped:
                    self._skipped.add(str(entry.get("order_id")))
                    log.warning("listing skips an order it cannot represent: %s", exc)
        for found in orders:
            self._remember(found)
        return orders

    def fills(self, *, order_id: str | None = None, product_id: str | None = None) -> list[Fill]:
        kwargs: dict[str, Any] = {}
        if order_id is not None:
            kwargs["order_ids"] = [order_id]
        if product_id is not None:
            kwargs["product_ids"] = [product_id]
        what = "list fills"
        listed = self._pages(
            what, lambda cursor, limit: self._client.get_fills(cursor=cursor, limit=limit, **kwargs), "fills"
        )
        with mapping.reading(what):
            result = [mapping.fill(f, self._client_order_id(str(mapping.field(f, "order_id", what)))) for f in listed]
        return sorted(result, key=lambda f: (f.time, f.trade_id))

    def _remember(self, order: Order) -> None:
        if order.order_id is not None:
            with self._lock:
                self._client_ids[order.order_id] = order.client_order_id

    def _client_order_id(self, order_id: str) -> str:
        """Coinbase's fills carry no client order id; find it from the order, once per order."""
        with self._lock:
            known = self._client_ids.get(order_id)
        return known if known is not None else self.get_order(order_id).client_order_id


def _created_order_id(what: str, data: dict[str, Any]) -> str:
    """The order id of a create's answer. `success: false` with the venue's reason is a rejection; an answer
    that says neither (no `success`, no reason, no order id) is malformed: the order may exist."""
    if mapping.flag(data, "success", what):
        return str(mapping.field(mapping.field(data, "success_response", what), "order_id", what))
    failure = mapping.field(data, "error_response", what)
    if not isinstance(failure, dict) or not (failure.get("error") or failure.get("preview_failure_reason")):
        raise MalformedAnswerError(f"success is false but no reason is given: {failure!r}"[:300], what)
    raise failures.order_rejection(failure)
