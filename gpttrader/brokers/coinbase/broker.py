"""The Coinbase Advanced Trade broker over the official SDK's RESTClient.

Every call goes through the rate limiter and the retry policy, every failure comes out as a BrokerError,
and every order is quantized to its product and checked against the product's minimums before it is
sent. Perpetuals are refused unless derivatives are enabled.
"""

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
from gpttrader.brokers.errors import InvalidOrderError
from gpttrader.brokers.protocol import MarginSummary, OrderPreview
from gpttrader.domain import (
    Balance,
    Candle,
    Fill,
    Granularity,
    Order,
    OrderRejected,
    OrderRequest,
    OrderType,
    Position,
    Product,
    ProductType,
    Quote,
    prepare_order,
)

T = TypeVar("T")


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
    ) -> None:
        self._client = client
        self.derivatives_enabled = derivatives_enabled
        self.retry = retry or RetryPolicy()
        self._private = private_limit or TokenBucket(30)
        self._public = public_limit or TokenBucket(10)
        self._market = CoinbaseMarketData(client, retry=self.retry, limit=self._public)
        self._catalog: dict[str, Product] = {}
        self._client_ids: dict[str, str] = {}  # exchange order id -> client order id, for fills
        self._lock = threading.Lock()

    # -- plumbing -------------------------------------------------------------------------------------
    def _call(self, what: str, call: Callable[[], T], *, public: bool = False, safe_to_retry: bool = True) -> T:
        bucket = self._public if public else self._private
        return guarded(call, bucket=bucket, retry=self.retry, what=what, safe_to_retry=safe_to_retry)

    def _check_derivatives(self, product_id: str) -> None:
        if "-PERP" in product_id and not self.derivatives_enabled:
            raise InvalidOrderError(
                f"{product_id} is an INTX perpetual: set COINBASE_ENABLE_DERIVATIVES=1 to trade perpetuals",
                "DERIVATIVES_DISABLED",
            )

    # -- catalog and market data ----------------------------------------------------------------------
    def products(self) -> list[Product]:
        data = mapping.as_dict(self._call("list products", self._client.get_products))
        products = [mapping.product(p) for p in data.get("products", [])]
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
        data = mapping.as_dict(self._call(f"get product {product_id}", lambda: self._client.get_product(product_id)))
        found = mapping.product(data)
        with self._lock:
            self._catalog[product_id] = found
        return found

    def quote(self, product_id: str) -> Quote:
        self._check_derivatives(product_id)
        data = mapping.as_dict(
            self._call(f"best bid/ask {product_id}", lambda: self._client.get_best_bid_ask(product_ids=[product_id]))
        )
        books = data.get("pricebooks") or []
        return mapping.top_of_book(product_id, books[0] if books else {})

    def candles(self, product_id: str, granularity: Granularity, start: datetime, end: datetime) -> list[Candle]:
        """One window of candles (at most 350), oldest first, from the public endpoint."""
        return self._market.candles(product_id, granularity, start, end)

    # -- account --------------------------------------------------------------------------------------
    def balances(self) -> list[Balance]:
        result: list[Balance] = []
        cursor: str | None = None
        while True:
            page = mapping.as_dict(
                self._call("list accounts", partial(self._client.get_accounts, limit=250, cursor=cursor))
            )
            result.extend(mapping.balance(a) for a in page.get("accounts", []))
            cursor = page.get("cursor") or None
            if not page.get("has_next") or cursor is None:
                return result

    # -- orders ---------------------------------------------------------------------------------------
    def positions(self) -> list[Position]:
        """Open futures positions (CFM) and, with derivatives on, perpetual positions (INTX).

        Spot holdings are balances; their entry prices are the engine's to track from fills."""
        data = mapping.as_dict(self._call("list futures positions", self._client.list_futures_positions))
        result = [
            mapping.futures_position(p, self.product(str(p.get("product_id")))) for p in data.get("positions", [])
        ]
        if self.derivatives_enabled:
            for portfolio in self._intx_portfolios():
                page = mapping.as_dict(
                    self._call("list perpetual positions", partial(self._client.list_perps_positions, portfolio))
                )
                result.extend(
                    mapping.perpetual_position(p, self.product(str(p.get("symbol")))) for p in page.get("positions", [])
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
        data = mapping.as_dict(self._call("futures balance summary", self._client.get_futures_balance_summary))
        summary = mapping.field(data, "balance_summary", "futures balance summary")
        pools["USD"] = pools.get("USD", Decimal(0)) + mapping.amount(summary, "cfm_usd_balance", "futures balance")
        if self.derivatives_enabled:
            for portfolio in self._intx_portfolios():
                page = mapping.as_dict(
                    self._call("perpetuals portfolio", partial(self._client.get_perps_portfolio_summary, portfolio))
                )
                for entry in page.get("portfolios", []):
                    pools["USDC"] = pools.get("USDC", Decimal(0)) + mapping.dec(entry, "collateral", "INTX portfolio")
        return pools

    def _intx_portfolios(self) -> list[str]:
        data = mapping.as_dict(
            self._call("list portfolios", partial(self._client.get_portfolios, portfolio_type="INTX"))
        )
        return [str(p["uuid"]) for p in data.get("portfolios", [])]

    def margin_summary(self) -> MarginSummary:
        data = mapping.as_dict(self._call("futures balance summary", self._client.get_futures_balance_summary))
        summary = mapping.field(data, "balance_summary", "futures balance summary")
        where = "futures balance summary"
        return MarginSummary(
            total_balance=mapping.amount(summary, "total_usd_balance", where),
            buying_power=mapping.amount(summary, "futures_buying_power", where),
            initial_margin=mapping.amount(summary, "initial_margin", where),
            available_margin=mapping.amount(summary, "available_margin", where),
            unrealized_pnl=mapping.amount(summary, "unrealized_pnl", where),
            liquidation_buffer=mapping.amount(summary, "liquidation_buffer_amount", where),
        )

    def intraday_margin_setting(self) -> str:
        data = mapping.as_dict(self._call("intraday margin setting", self._client.get_intraday_margin_setting))
        return str(mapping.field(data, "setting", "intraday margin setting"))

    def set_intraday_margin_setting(self, setting: str) -> None:
        self._call("set intraday margin setting", partial(self._client.set_intraday_margin_setting, setting))

    def schedule_sweep(self, usd_amount: Decimal) -> bool:
        """Ask for CFM cash to move back to spot at the next daily sweep."""
        data = mapping.as_dict(
            self._call(
                "schedule sweep", partial(self._client.schedule_futures_sweep, str(usd_amount)), safe_to_retry=False
            )
        )
        return bool(data.get("success"))

    def cancel_sweep(self) -> bool:
        data = mapping.as_dict(self._call("cancel sweep", self._client.cancel_pending_futures_sweep))
        return bool(data.get("success"))

    def pending_sweeps(self) -> list[Decimal]:
        data = mapping.as_dict(self._call("list sweeps", self._client.list_futures_sweeps))
        return [
            mapping.amount(s, "requested_amount", "sweep")
            for s in data.get("sweeps", [])
            if s.get("status") == "PENDING"
        ]

    def prepare(self, request: OrderRequest) -> OrderRequest:
        """Quantize to the product's grid and check its minimums; refusals raise InvalidOrderError."""
        self._check_derivatives(request.product_id)
        try:
            return prepare_order(request, self.product(request.product_id))
        except OrderRejected as exc:
            raise InvalidOrderError(str(exc), exc.reason) from None

    def place_order(self, request: OrderRequest) -> Order:
        prepared = self.prepare(request)
        configuration = order_configuration(prepared)
        # Safe to retry: Coinbase answers a repeated client order id with the order it already made.
        response = mapping.as_dict(
            self._call(
                f"create order {prepared.client_order_id}",
                lambda: self._client.create_order(
                    client_order_id=prepared.client_order_id,
                    product_id=prepared.product_id,
                    side=prepared.side.value,
                    order_configuration=configuration,
                ),
            )
        )
        if not response.get("success"):
            raise failures.order_rejection(response.get("error_response") or {})
        order_id = str(mapping.field(response.get("success_response") or {}, "order_id", "create order"))
        return self.get_order(order_id)

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
        data = mapping.as_dict(
            self._call(
                f"edit order {order_id}",
                partial(
                    self._client.edit_order, order_id=order_id, size=str(prepared.size), price=str(prepared.limit_price)
                ),
                safe_to_retry=False,
            )
        )
        if not data.get("success"):
            errors = data.get("errors") or [{}]
            reason = str(errors[0].get("edit_failure_reason") or "UNKNOWN_EDIT_ORDER_FAILURE_REASON")
            raise InvalidOrderError(f"edit of {order_id} refused: {reason}", reason)
        return self.get_order(order_id)

    def close_position(self, product_id: str, client_order_id: str, size: Decimal | None = None) -> Order:
        """Flatten a futures or perpetual position (or `size` contracts of it) with a market order."""
        self._check_derivatives(product_id)
        kwargs: dict[str, Any] = {"client_order_id": client_order_id, "product_id": product_id}
        if size is not None:
            kwargs["size"] = str(size)
        data = mapping.as_dict(
            self._call(f"close position {product_id}", partial(self._client.close_position, **kwargs))
        )
        if not data.get("success"):
            raise failures.order_rejection(data.get("error_response") or {})
        return self.get_order(str(mapping.field(data.get("success_response") or {}, "order_id", "close position")))

    def key_permissions(self) -> KeyPermissions:
        data = mapping.as_dict(self._call("key permissions", self._client.get_api_key_permissions))
        return KeyPermissions(
            bool(data.get("can_view")),
            bool(data.get("can_trade")),
            bool(data.get("can_transfer")),
            str(data.get("portfolio_type") or ""),
        )

    def server_time(self) -> datetime:
        data = mapping.as_dict(self._call("server time", self._client.get_unix_time, public=True))
        return mapping.timestamp(mapping.field(data, "iso", "server time"), "server time")

    def preview_order(self, request: OrderRequest) -> OrderPreview:
        prepared = self.prepare(request)
        data = mapping.as_dict(
            self._call(
                f"preview order {prepared.client_order_id}",
                lambda: self._client.preview_order(
                    product_id=prepared.product_id,
                    side=prepared.side.value,
                    order_configuration=order_configuration(prepared),
                ),
            )
        )
        where = "order preview"
        return OrderPreview(
            product_id=prepared.product_id,
            quote_size=mapping.dec(data, "quote_size", where, Decimal(0)),
            base_size=mapping.dec(data, "base_size", where, Decimal(0)),
            commission=mapping.dec(data, "commission_total", where, Decimal(0)),
            slippage=mapping.dec(data, "slippage", where, Decimal(0)),
            errors=tuple(data.get("errs") or ()),
        )

    def cancel_orders(self, order_ids: list[str]) -> dict[str, bool]:
        if not order_ids:
            return {}
        data = mapping.as_dict(self._call("cancel orders", lambda: self._client.cancel_orders(order_ids=order_ids)))
        return {str(r.get("order_id")): bool(r.get("success")) for r in data.get("results", [])}

    def get_order(self, order_id: str) -> Order:
        data = mapping.as_dict(self._call(f"get order {order_id}", lambda: self._client.get_order(order_id)))
        found = mapping.order(mapping.field(data, "order", f"order {order_id}"))
        self._remember(found)
        return found

    def list_orders(self, product_id: str | None = None, *, open_only: bool = False) -> list[Order]:
        kwargs: dict[str, Any] = {}
        if product_id is not None:
            kwargs["product_ids"] = [product_id]
        if open_only:
            kwargs["order_status"] = ["OPEN"]
        data = mapping.as_dict(self._call("list orders", lambda: self._client.list_orders(**kwargs)))
        orders = [mapping.order(o) for o in data.get("orders", [])]
        for found in orders:
            self._remember(found)
        return orders

    def fills(self, *, order_id: str | None = None, product_id: str | None = None) -> list[Fill]:
        kwargs: dict[str, Any] = {}
        if order_id is not None:
            kwargs["order_ids"] = [order_id]
        if product_id is not None:
            kwargs["product_ids"] = [product_id]
        data = mapping.as_dict(self._call("list fills", lambda: self._client.get_fills(**kwargs)))
        result = [mapping.fill(f, self._client_order_id(str(f.get("order_id")))) for f in data.get("fills", [])]
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
