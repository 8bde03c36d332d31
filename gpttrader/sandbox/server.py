"""The sandbox's HTTP API: the Advanced Trade paths under /api/v3/brokerage, plus a local admin API.

Private paths need a Coinbase-style JWT (see auth.py). Public paths (`/time`, `/market/...`) do not,
but accept one, as Coinbase does. Order rejects are HTTP 200 with `success: false`. Refusals look like
Coinbase's: a refused token is a bare plain-text `Unauthorized` 401, a path nothing serves a 404 (whether or
not a token came with it), a rate limit a 429 with `RESOURCE_EXHAUSTED` and the x-ratelimit-* headers.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from gpttrader.domain import Granularity, ProductType, Side
from gpttrader.sandbox import filters, paging, payloads
from gpttrader.sandbox.auth import AuthenticationFailed, TokenVerifier
from gpttrader.sandbox.derivatives_api import DerivativesRoutes
from gpttrader.sandbox.exchange import Exchange, NotFoundError, OrderRejectedError
from gpttrader.sandbox.faults import Answer, FaultPlan, Faults, garbled, parse_plan
from gpttrader.sandbox.feed import FeedSession, FeedTiming
from gpttrader.sandbox.keys import SandboxKey

API = "/api/v3/brokerage"
MAX_CANDLES = 350
_PUBLIC = (f"{API}/time", f"{API}/market/")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
API_KEY = web.RequestKey("api_key", SandboxKey)
# What api.coinbase.com answers for a path it does not serve (its v2 `errors` shape, not the v3 one).
UNKNOWN_PATH = {"errors": [{"id": "not_found", "message": "Not found"}]}
RATE_LIMIT = 30  # private requests a second, Coinbase's documented limit
log = logging.getLogger(__name__)


def json_response(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def fail(status: int, code: str, message: str) -> web.HTTPException:
    cls = {400: web.HTTPBadRequest, 403: web.HTTPForbidden, 404: web.HTTPNotFound}[status]
    return cls(text=web.json_response(payloads.error(code, message)).text, content_type="application/json")


class SandboxApi:
    def __init__(self, exchange: Exchange, keys: dict[str, SandboxKey], feed_timing: FeedTiming | None = None) -> None:
        self.exchange = exchange
        self.tokens = TokenVerifier(keys)
        self.faults = Faults()
        self.feed_timing = feed_timing or FeedTiming()
        self.sessions: set[FeedSession] = set()

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self._inject_faults, self._authenticate])
        r = app.router
        r.add_get("/ws", self.websocket)
        r.add_get(f"{API}/time", self.server_time)
        for prefix in (API, f"{API}/market"):
            r.add_get(f"{prefix}/products", self.list_products)
            r.add_get(f"{prefix}/products/{{product_id}}", self.get_product)
            r.add_get(f"{prefix}/products/{{product_id}}/candles", self.candles)
            r.add_get(f"{prefix}/products/{{product_id}}/ticker", self.market_trades)
            r.add_get(f"{prefix}/product_book", self.product_book)
        r.add_get(f"{API}/best_bid_ask", self.best_bid_ask)
        r.add_get(f"{API}/accounts", self.list_accounts)
        r.add_get(f"{API}/accounts/{{account_id}}", self.get_account)
        r.add_post(f"{API}/orders", self.create_order)
        r.add_post(f"{API}/orders/preview", self.preview_order)
        r.add_post(f"{API}/orders/batch_cancel", self.cancel_orders)
        r.add_get(f"{API}/orders/historical/batch", self.list_orders)
        r.add_get(f"{API}/orders/historical/fills", self.list_fills)
        r.add_get(f"{API}/orders/historical/{{order_id}}", self.get_order)
        r.add_get(f"{API}/transaction_summary", self.transaction_summary)
        r.add_get(f"{API}/key_permissions", self.key_permissions)
        r.add_post(f"{API}/orders/edit", self.edit_order)
        r.add_post(f"{API}/orders/edit_preview", self.preview_edit_order)
        r.add_post(f"{API}/orders/close_position", self.close_position)
        DerivativesRoutes(self.exchange).register(r)
        r.add_post("/sandbox/admin/clock", self.admin_clock)
        r.add_get("/sandbox/admin/time", self.admin_time)
        r.add_post("/sandbox/admin/time", self.admin_time)
        r.add_post("/sandbox/admin/faults", self.admin_add_fault)
        r.add_delete("/sandbox/admin/faults", self.admin_clear_faults)
        return app

    @web.middleware
    async def _inject_faults(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        plan = None if request.path.startswith(("/sandbox/", "/ws")) else self.faults.take(request.method, request.path)
        if plan is None:
            return await handler(request)
        if plan.kind == "latency":
            await asyncio.sleep(plan.latency_ms / 1000)
            return await handler(request)
        if plan.kind == "rate_limit":
            reset = time.time() + plan.retry_after
            return web.json_response(
                payloads.error("RESOURCE_EXHAUSTED", "Too many requests"),
                status=429,
                headers={
                    "x-ratelimit-limit": str(RATE_LIMIT),
                    "x-ratelimit-remaining": "0",
                    "x-ratelimit-reset": f"{reset:.3f}",
                    "Retry-After": f"{plan.retry_after:g}",
                },
            )
        if plan.kind == "garble":
            return await self._garble(plan, request, handler)
        if plan.kind == "error_after":
            await handler(request)  # the work is done; only its answer is lost
        return web.json_response(payloads.error("INTERNAL", "injected fault"), status=plan.status)

    @staticmethod
    async def _garble(plan: FaultPlan, request: web.Request, handler: Handler) -> web.Response:
        real = None
        if plan.work_first:
            response = await handler(request)
            if not isinstance(response, web.Response) or not isinstance(response.body, bytes):
                raise TypeError(f"{request.path} answered with a stream; a garble plan rewrites whole answers only")
            real = Answer(response.status, response.content_type, response.body)
        answer = garbled(plan, real)
        return web.Response(status=answer.status, body=answer.body, content_type=answer.content_type)

    @web.middleware
    async def _authenticate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if isinstance(request.match_info.http_exception, web.HTTPNotFound):
            return web.json_response(UNKNOWN_PATH, status=404)  # before any token check, as Coinbase does
        if request.path.startswith("/sandbox/admin/"):
            if request.remote not in ("127.0.0.1", "::1"):
                raise fail(403, "PERMISSION_DENIED", "the admin API answers loopback only")
        elif request.path != "/ws" and not request.path.startswith(_PUBLIC):
            try:
                request[API_KEY] = self.tokens.rest(
                    request.headers.get("Authorization"),
                    method=request.method,
                    host=request.host,
                    path=request.path,
                )
            except AuthenticationFailed as exc:
                log.info("401 for %s %s: %s", request.method, request.path, exc)
                raise web.HTTPUnauthorized(text="Unauthorized") from None
        try:
            return await handler(request)
        except NotFoundError as exc:
            raise fail(404, "NOT_FOUND", str(exc)) from None

    # -- market data ----------------------------------------------------------------------------------
    async def server_time(self, request: web.Request) -> web.Response:
        now = self.exchange.clock.wall.now()
        return json_response(
            {
                "iso": payloads.rfc3339(datetime.fromtimestamp(now, UTC)),
                "epochSeconds": str(int(now)),
                "epochMillis": str(int(now * 1000)),
            }
        )

    def _product_body(self, product_id: str) -> dict[str, Any]:
        exchange = self.exchange
        listing = exchange.listing(product_id)
        clock, path = exchange.clock, exchange.paths[product_id]
        now = clock.wall.now()
        first, _, _, last, volume = path.span(clock.position(now - 86400), clock.position(now))
        change = (Decimal(repr(last)) / Decimal(repr(first)) - 1) * 100 if first else Decimal(0)
        return payloads.product(
            listing,
            exchange.mid(product_id),
            change.quantize(Decimal("0.0001")),
            Decimal(repr(volume)).quantize(listing.product.base_increment),
            clock.wall.utc(),
        )

    async def list_products(self, request: web.Request) -> web.Response:
        query = request.query
        wanted = filters.wanted(query, "product_ids")
        product_type = query.get("product_type")
        expiry_type = query.get("contract_expiry_type")
        bodies = []
        for product_id in self.exchange.listings:
            if not self.exchange.visible(product_id) or (wanted and product_id not in wanted):
                continue
            kind = self.exchange.listings[product_id].product.product_type
            if product_type and ("SPOT" if kind is ProductType.SPOT else "FUTURE") != product_type:
                continue
            if expiry_type and ("PERPETUAL" if kind is ProductType.PERPETUAL else "EXPIRING") != expiry_type:
                continue
            bodies.append(self._product_body(product_id))
        with _bad_request():
            bodies = paging.offset_page(bodies, query)
        # `pagination` is null in Coinbase's own answers, but present: clients that read it find it.
        return json_response({"products": bodies, "num_products": len(bodies), "pagination": None})

    async def get_product(self, request: web.Request) -> web.Response:
        return json_response(self._product_body(request.match_info["product_id"]))

    async def candles(self, request: web.Request) -> web.Response:
        product_id = request.match_info["product_id"]
        self.exchange.listing(product_id)
        query = request.query
        try:
            granularity = Granularity(query.get("granularity", "")).seconds
        except ValueError:
            raise fail(400, "INVALID_ARGUMENT", f"granularity must be one of {', '.join(Granularity)}") from None
        try:
            start, end = int(query["start"]), int(query["end"])
        except (KeyError, ValueError):
            raise fail(400, "INVALID_ARGUMENT", "start and end must be UNIX seconds") from None
        now = int(self.exchange.clock.wall.now())
        end = min(end, now)
        first = -(-start // granularity) * granularity  # the first bucket starting at or after start
        buckets = list(range(first, end, granularity))
        # As at Coinbase, a window of more than 350 buckets is refused whatever the limit; the limit (the number
        # of buckets, at most 350) keeps the newest of the window's.
        if len(buckets) > MAX_CANDLES:
            raise fail(
                400, "INVALID_ARGUMENT", f"number of candles requested should be less than or equal to {MAX_CANDLES}"
            )
        try:
            limit = int(query.get("limit", MAX_CANDLES))
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_CANDLES:
            raise fail(400, "INVALID_ARGUMENT", f"limit must be a whole number from 1 to {MAX_CANDLES}")
        clock, path = self.exchange.clock, self.exchange.paths[product_id]
        quantum = self.exchange.listings[product_id].product.quote_increment
        rows: list[dict[str, str]] = []
        for bucket in reversed(buckets):
            if len(rows) == limit:
                break
            o, h, low, c, v = path.span(clock.position(bucket), clock.position(min(bucket + granularity, now)))
            if round(v, 8) == 0:
                continue  # like Coinbase, no candle for an interval without trades (a frozen path)
            rows.append(
                {
                    "start": str(bucket),
                    "low": payloads.price(low, quantum),
                    "high": payloads.price(h, quantum),
                    "open": payloads.price(o, quantum),
                    "close": payloads.price(c, quantum),
                    "volume": f"{v:.8f}",
                }
            )
        return json_response({"candles": rows})

    async def market_trades(self, request: web.Request) -> web.Response:
        product_id = request.match_info["product_id"]
        listing = self.exchange.listing(product_id)
        limit = max(1, min(int(request.query.get("limit", "10")), 1000))
        path = self.exchange.paths[product_id]
        now = self.exchange.clock.wall.now()
        last = int(self.exchange.clock.position(now) * 12)
        trades = [
            {
                **payloads.market_trade(listing, path, last - i, datetime.fromtimestamp(now - i * 5, UTC)),
                "bid": "",
                "ask": "",
                "exchange": "coinbase",
            }
            for i in range(limit)
        ]
        bid, ask = self._touch(product_id)
        return json_response({"trades": trades, "best_bid": str(bid), "best_ask": str(ask)})

    def _touch(self, product_id: str) -> tuple[Decimal, Decimal]:
        return self.exchange.book(product_id, Side.BUY, 1)[0][0], self.exchange.book(product_id, Side.SELL, 1)[0][0]

    async def product_book(self, request: web.Request) -> web.Response:
        product_id = request.query.get("product_id", "")
        self.exchange.listing(product_id)
        levels = max(1, min(int(request.query.get("limit", "20")), 200))
        bids = self.exchange.book(product_id, Side.BUY, levels)
        asks = self.exchange.book(product_id, Side.SELL, levels)
        mid = (bids[0][0] + asks[0][0]) / 2
        book = {
            "product_id": product_id,
            "bids": [{"price": str(p), "size": str(s)} for p, s in bids],
            "asks": [{"price": str(p), "size": str(s)} for p, s in asks],
            "time": payloads.rfc3339(self.exchange.clock.wall.utc()),
        }
        return json_response(
            {
                "pricebook": book,
                "last": str(mid),
                "mid_market": str(mid),
                "spread_bps": payloads.money((asks[0][0] - bids[0][0]) / mid * 10000),
                "spread_absolute": str(asks[0][0] - bids[0][0]),
            }
        )

    async def best_bid_ask(self, request: web.Request) -> web.Response:
        wanted = request.query.getall("product_ids", []) or [
            p for p in self.exchange.listings if self.exchange.visible(p)
        ]
        books = []
        for product_id in wanted:
            self.exchange.listing(product_id)
            (bid, bid_size), (ask, ask_size) = (
                self.exchange.book(product_id, Side.BUY, 1)[0],
                self.exchange.book(product_id, Side.SELL, 1)[0],
            )
            books.append(
                {
                    "product_id": product_id,
                    "bids": [{"price": str(bid), "size": str(bid_size)}],
                    "asks": [{"price": str(ask), "size": str(ask_size)}],
                    "time": payloads.rfc3339(self.exchange.clock.wall.utc()),
                }
            )
        return json_response({"pricebooks": books})

    # -- accounts -------------------------------------------------------------------------------------
    async def list_accounts(self, request: web.Request) -> web.Response:
        wanted = {"retail_portfolio_id": filters.wanted(request.query, "retail_portfolio_id")}
        with self.exchange.lock:
            self.exchange.advance()
            entries = [
                (place, payloads.account(a))
                for place, a in enumerate(self.exchange.accounts.values())
                if filters.passes(wanted, retail_portfolio_id=payloads.PORTFOLIO_ID)
            ]
        with _bad_request():
            page = paging.page(paging.ACCOUNTS, entries, request.query)
        return json_response(
            {"accounts": page.rows, "has_next": page.has_next, "cursor": page.cursor, "size": len(page.rows)}
        )

    async def get_account(self, request: web.Request) -> web.Response:
        with self.exchange.lock:
            self.exchange.advance()
            for entry in self.exchange.accounts.values():
                if entry.uuid == request.match_info["account_id"]:
                    return json_response({"account": payloads.account(entry)})
        raise NotFoundError(f"account {request.match_info['account_id']} not found")

    async def transaction_summary(self, request: web.Request) -> web.Response:
        fees = self.exchange.fees
        volume = sum((f.price * f.size for f in self.exchange.fills), Decimal(0))
        total_fees = sum((f.commission for f in self.exchange.fills), Decimal(0))
        return json_response(
            {
                "total_volume": float(volume),
                "total_fees": float(total_fees),
                "fee_tier": {
                    "pricing_tier": fees.tier_name,
                    "usd_from": "0",
                    "usd_to": "10000",
                    "taker_fee_rate": str(fees.taker),
                    "maker_fee_rate": str(fees.maker),
                    "aop_from": "",
                    "aop_to": "",
                },
                "margin_rate": None,
                "goods_and_services_tax": None,
                "advanced_trade_only_volume": float(volume),
                "advanced_trade_only_fees": float(total_fees),
                "coinbase_pro_volume": 0,
                "coinbase_pro_fees": 0,
            }
        )

    async def key_permissions(self, request: web.Request) -> web.Response:
        key = request[API_KEY]
        return json_response(
            {
                "can_view": key.can_view,
                "can_trade": key.can_trade,
                "can_transfer": False,
                "portfolio_uuid": "sandbox-portfolio",
                "portfolio_type": "DEFAULT",
            }
        )

    # -- orders ---------------------------------------------------------------------------------------
    async def _body(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise fail(400, "INVALID_ARGUMENT", "the body must be JSON") from None
        if not isinstance(body, dict):
            raise fail(400, "INVALID_ARGUMENT", "the body must be a JSON object")
        return body

    def _require_trade(self, request: web.Request) -> None:
        if not request[API_KEY].can_trade:
            raise fail(403, "PERMISSION_DENIED", "Missing required scopes")

    async def create_order(self, request: web.Request) -> web.Response:
        self._require_trade(request)
        body = await self._body(request)
        client_order_id = str(body.get("client_order_id") or "")
        if not client_order_id:
            raise fail(400, "INVALID_ARGUMENT", "client_order_id is required")
        configuration = body.get("order_configuration", {})
        try:
            order, _ = self.exchange.create(client_order_id, self.exchange.parse(body))
        except OrderRejectedError as exc:
            return json_response(
                {
                    "success": False,
                    "failure_reason": "UNKNOWN_FAILURE_REASON",
                    "order_id": "",
                    "error_response": {
                        "error": exc.error,
                        "message": exc.message,
                        "error_details": exc.message,
                        "preview_failure_reason": exc.preview_failure_reason,
                        # Refused at its preview: the new-order stage, which has its own reasons, never ran.
                        "new_order_failure_reason": "UNKNOWN_FAILURE_REASON",
                    },
                    "order_configuration": configuration,
                }
            )
        return json_response(
            {
                "success": True,
                "failure_reason": "UNKNOWN_FAILURE_REASON",
                "order_id": order.order_id,
                "success_response": {
                    "order_id": order.order_id,
                    "product_id": order.product_id,
                    "side": order.side.value,
                    "client_order_id": order.client_order_id,
                },
                "order_configuration": order.configuration,
            }
        )

    async def preview_order(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            figures = self.exchange.preview(self.exchange.parse(body))
        except OrderRejectedError as exc:
            return json_response(
                {
                    "errs": [exc.preview_failure_reason],
                    "warning": [],
                    "quote_size": "0",
                    "base_size": "0",
                    "best_bid": "",
                    "best_ask": "",
                    "is_max": False,
                    "order_total": "0",
                    "commission_total": "0",
                    "slippage": "0",
                    "preview_id": "",
                }
            )
        total = figures["quote_size"] + figures["commission_total"]
        return json_response(
            {
                "order_total": payloads.money(total),
                "commission_total": payloads.money(figures["commission_total"]),
                "errs": [],
                "warning": [],
                "quote_size": payloads.money(figures["quote_size"]),
                "base_size": payloads.money(figures["base_size"]),
                "best_bid": str(figures["best_bid"]),
                "best_ask": str(figures["best_ask"]),
                "is_max": False,
                "slippage": payloads.money(figures["slippage"].quantize(Decimal("0.000001"))),
                "preview_id": f"preview-{int(time.time() * 1000)}",
            }
        )

    def _edit_arguments(self, body: dict[str, Any]) -> tuple[str, Decimal, Decimal]:
        try:
            return str(body["order_id"]), Decimal(str(body["size"])), Decimal(str(body["price"]))
        except (KeyError, ArithmeticError):
            raise fail(400, "INVALID_ARGUMENT", "order_id, size and price are required") from None

    async def edit_order(self, request: web.Request) -> web.Response:
        self._require_trade(request)
        order_id, size, price = self._edit_arguments(await self._body(request))
        try:
            self.exchange.edit(order_id, size, price, dry_run=False)
        except OrderRejectedError as exc:
            return json_response(
                {
                    "success": False,
                    "errors": [
                        {"edit_failure_reason": exc.error, "preview_failure_reason": exc.preview_failure_reason}
                    ],
                }
            )
        return json_response({"success": True, "errors": []})

    async def preview_edit_order(self, request: web.Request) -> web.Response:
        order_id, size, price = self._edit_arguments(await self._body(request))
        try:
            figures = self.exchange.edit(order_id, size, price, dry_run=True)
        except OrderRejectedError as exc:
            return json_response(
                {"errors": [{"edit_failure_reason": exc.error, "preview_failure_reason": exc.preview_failure_reason}]}
            )
        bid, ask = self._touch(self.exchange.orders[order_id].product_id)
        total = figures["quote_size"] + figures["commission_total"]
        return json_response(
            {
                "errors": [],
                "slippage": "0",
                "order_total": payloads.money(total),
                "commission_total": payloads.money(figures["commission_total"]),
                "quote_size": payloads.money(figures["quote_size"]),
                "base_size": payloads.money(figures["base_size"]),
                "best_bid": str(bid),
                "best_ask": str(ask),
                "average_filled_price": "0",
            }
        )

    async def close_position(self, request: web.Request) -> web.Response:
        self._require_trade(request)
        body = await self._body(request)
        client_order_id, product_id = str(body.get("client_order_id") or ""), str(body.get("product_id") or "")
        if not client_order_id or not product_id:
            raise fail(400, "INVALID_ARGUMENT", "client_order_id and product_id are required")
        try:
            size = Decimal(str(body["size"])) if body.get("size") not in (None, "") else None
        except ArithmeticError:
            raise fail(400, "INVALID_ARGUMENT", f"size must be a decimal string, got {body.get('size')!r}") from None
        try:
            order = self.exchange.close_position(client_order_id, product_id, size)
        except OrderRejectedError as exc:
            return json_response(
                {
                    "success": False,
                    "error_response": {
                        "error": exc.error,
                        "message": exc.message,
                        "error_details": exc.message,
                        "preview_failure_reason": "UNKNOWN_PREVIEW_FAILURE_REASON",
                        "new_order_failure_reason": exc.error,
                    },
                }
            )
        return json_response(
            {
                "success": True,
                "success_response": {
                    "order_id": order.order_id,
                    "product_id": order.product_id,
                    "side": order.side.value,
                    "client_order_id": order.client_order_id,
                },
                "order_configuration": order.configuration,
            }
        )

    async def cancel_orders(self, request: web.Request) -> web.Response:
        self._require_trade(request)
        body = await self._body(request)
        results = []
        for order_id in body.get("order_ids", []):
            success, reason = self.exchange.cancel(str(order_id))
            results.append(
                {
                    "success": success,
                    "failure_reason": reason or "UNKNOWN_CANCEL_FAILURE_REASON",
                    "order_id": str(order_id),
                }
            )
        return json_response({"results": results})

    async def get_order(self, request: web.Request) -> web.Response:
        with self.exchange.lock:
            self.exchange.advance()
            entry = self.exchange.orders.get(request.match_info["order_id"])
            if entry is None:
                raise NotFoundError(f"order {request.match_info['order_id']} not found")
            return json_response({"order": payloads.order(entry)})

    async def list_orders(self, request: web.Request) -> web.Response:
        query = request.query
        wanted = {
            "order_ids": filters.wanted(query, "order_ids"),
            "product_ids": filters.wanted(query, "product_ids", "product_id"),
            "order_status": filters.wanted(query, "order_status"),
            "order_types": filters.wanted(query, "order_types"),
            "order_side": filters.wanted(query, "order_side"),
            "time_in_forces": filters.wanted(query, "time_in_forces"),
            "product_type": filters.wanted(query, "product_type"),
            "contract_expiry_type": filters.wanted(query, "contract_expiry_type"),
            "asset_filters": filters.wanted(query, "asset_filters"),
            "order_placement_source": filters.wanted(query, "order_placement_source"),
            "retail_portfolio_id": filters.wanted(query, "retail_portfolio_id"),
        }
        with _bad_request():
            start, end = filters.moment(query, "start_date"), filters.moment(query, "end_date")
        with self.exchange.lock:
            self.exchange.advance()
            entries = []
            for place, o in enumerate(self.exchange.orders.values()):
                body = payloads.order(o)
                product = self.exchange.listings[o.product_id].product
                if filters.within(o.created_time, start, end) and filters.passes(
                    wanted,
                    order_ids=o.order_id,
                    product_ids=o.product_id,
                    order_status=o.status,
                    order_types=o.order_type,
                    order_side=o.side.value,
                    time_in_forces=o.time_in_force,
                    product_type=body["product_type"],
                    contract_expiry_type=_expiry_type(product.product_type),
                    asset_filters=product.base_currency,
                    order_placement_source=body["order_placement_source"],
                    retail_portfolio_id=body["retail_portfolio_id"],
                ):
                    entries.append((place, body))
        with _bad_request():
            page = paging.page(paging.ORDERS, entries, query)
        return json_response({"orders": page.rows, "sequence": "0", "has_next": page.has_next, "cursor": page.cursor})

    async def list_fills(self, request: web.Request) -> web.Response:
        query = request.query
        wanted = {
            "order_ids": filters.wanted(query, "order_ids", "order_id"),
            "product_ids": filters.wanted(query, "product_ids", "product_id"),
            "trade_ids": filters.wanted(query, "trade_ids"),
            "retail_portfolio_id": filters.wanted(query, "retail_portfolio_id"),
        }
        with _bad_request():
            start = filters.moment(query, "start_sequence_timestamp")
            end = filters.moment(query, "end_sequence_timestamp")
        with self.exchange.lock:
            self.exchange.advance()
            entries = [
                (place, payloads.fill(f))
                for place, f in enumerate(self.exchange.fills)
                if filters.within(f.trade_time, start, end)
                and filters.passes(
                    wanted,
                    order_ids=f.order_id,
                    product_ids=f.product_id,
                    trade_ids=f.trade_id,
                    retail_portfolio_id=payloads.PORTFOLIO_ID,
                )
            ]
        with _bad_request():
            page = paging.page(paging.FILLS, entries, query)
        # Coinbase's fills carry no has_next: a cursor alone says there is more.
        return json_response({"fills": page.rows, "cursor": page.cursor})

    # -- admin ----------------------------------------------------------------------------------------
    async def admin_clock(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if "advance_minutes" in body:
            self.exchange.clock.advance(float(body["advance_minutes"]))
        if "freeze" in body:
            self.exchange.clock.freeze(bool(body["freeze"]))
        with self.exchange.lock:
            self.exchange.advance()
        return json_response({"position": self.exchange.clock.position()})

    async def admin_time(self, request: web.Request) -> web.Response:
        """The sandbox's now (UNIX seconds); a POST {"advance_to": t} moves a virtual clock there first."""
        wall = self.exchange.clock.wall
        if request.method == "POST":
            body = await self._body(request)
            if not wall.is_virtual:
                raise fail(400, "INVALID_ARGUMENT", "the sandbox runs on the real clock; it cannot be moved")
            wall.advance_to(float(body["advance_to"]))
            with self.exchange.lock:
                self.exchange.advance()
        return json_response({"now": wall.now(), "virtual": wall.is_virtual})

    def drop_websockets(self) -> int:
        """Cut every feed connection without a close frame; returns how many there were."""
        sessions = list(self.sessions)
        for session in sessions:
            session.abort()
        return len(sessions)

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        session = FeedSession(ws, request, self.exchange, self.tokens, self.feed_timing)
        self.sessions.add(session)
        try:
            await session.run()
        finally:
            self.sessions.discard(session)
        return ws

    async def admin_add_fault(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if body.get("kind") == "drop_websocket":
            # Not a plan but an event: every open feed connection is cut without a close frame.
            return json_response({"dropped": self.drop_websockets()})
        try:
            plan = parse_plan(body)
        except ValueError as exc:
            raise fail(400, "INVALID_ARGUMENT", str(exc)) from None
        self.faults.add(plan)
        return json_response({"added": plan.kind, "count": plan.remaining})

    async def admin_clear_faults(self, request: web.Request) -> web.Response:
        self.faults.clear()
        return json_response({"cleared": True, "injected": self.faults.injected})


@contextmanager
def _bad_request() -> Iterator[None]:
    """A listing's limit, cursor or time filter it cannot serve: HTTP 400, as Coinbase answers a bad argument."""
    try:
        yield
    except paging.BadPageRequest as exc:
        raise fail(400, "INVALID_ARGUMENT", str(exc)) from None


def _expiry_type(kind: ProductType) -> str:
    return {ProductType.SPOT: "UNKNOWN_CONTRACT_EXPIRY_TYPE", ProductType.FUTURE: "EXPIRING"}.get(kind, "PERPETUAL")
