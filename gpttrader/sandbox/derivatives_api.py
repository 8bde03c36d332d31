"""The sandbox's futures (CFM), perpetuals (INTX) and portfolio endpoints.

INTX paths answer only when the sandbox runs with derivatives enabled, as a Coinbase account without
INTX access gets nothing there. Sweeps move CFM cash back to spot once a day, at 00:00 UTC, as
Coinbase processes them daily; until then they are pending and can be cancelled.
"""

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from aiohttp import web

from gpttrader.sandbox import payloads
from gpttrader.sandbox.exchange import Exchange, NotFoundError
from gpttrader.sandbox.margin import (
    INTRADAY_SETTING,
    STANDARD_SETTING,
    DerivativePosition,
    MarginAccount,
    intraday_window,
)

API = "/api/v3/brokerage"
DEFAULT_PORTFOLIO = "sandbox-portfolio"
INTX_PORTFOLIO = "sandbox-intx"


def amount(value: Decimal, currency: str = "USD") -> dict[str, str]:
    return {"value": payloads.money(value), "currency": currency}


def cfm_summary(exchange: Exchange) -> dict[str, Decimal]:
    """The CFM balance summary's figures under Coinbase's field names, shared by the REST summary (which
    sends them as money objects) and the futures_balance_summary channel (which sends them as strings)."""
    cfm, marks = exchange.cfm, exchange.marks()
    initial = cfm.initial_margin(marks)
    unrealized = cfm.unrealized(marks)
    maintenance = initial / 2
    spot_usd = exchange.accounts["USD"].available if "USD" in exchange.accounts else Decimal(0)
    available = cfm.available_margin(marks)
    buffer = cfm.balance + unrealized - maintenance
    return {
        "futures_buying_power": available + spot_usd,
        "total_usd_balance": spot_usd + cfm.balance,
        "cbi_usd_balance": spot_usd,
        "cfm_usd_balance": cfm.balance,
        "total_open_orders_hold_amount": cfm.hold,
        "unrealized_pnl": unrealized,
        "daily_realized_pnl": sum((p.realized_pnl for p in cfm.positions.values()), Decimal(0)),
        "initial_margin": initial,
        "available_margin": available,
        "liquidation_threshold": maintenance,
        "liquidation_buffer_amount": buffer,
        "liquidation_buffer_percentage": (buffer / maintenance * 100).quantize(Decimal(1))
        if maintenance
        else Decimal(0),
    }


class DerivativesRoutes:
    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange

    def register(self, router: web.UrlDispatcher) -> None:
        router.add_get(f"{API}/cfm/balance_summary", self.cfm_balance_summary)
        router.add_get(f"{API}/cfm/positions", self.cfm_positions)
        router.add_get(f"{API}/cfm/positions/{{product_id}}", self.cfm_position)
        router.add_get(f"{API}/cfm/sweeps", self.list_sweeps)
        router.add_post(f"{API}/cfm/sweeps/schedule", self.schedule_sweep)
        router.add_delete(f"{API}/cfm/sweeps", self.cancel_sweep)
        router.add_get(f"{API}/cfm/intraday/margin_setting", self.get_margin_setting)
        router.add_post(f"{API}/cfm/intraday/margin_setting", self.set_margin_setting)
        router.add_get(f"{API}/cfm/intraday/current_margin_window", self.current_margin_window)
        router.add_get(f"{API}/intx/portfolio/{{portfolio_id}}", self.intx_summary)
        router.add_get(f"{API}/intx/positions/{{portfolio_id}}", self.intx_positions)
        router.add_get(f"{API}/intx/positions/{{portfolio_id}}/{{symbol}}", self.intx_position)
        router.add_get(f"{API}/intx/balances/{{portfolio_id}}", self.intx_balances)
        router.add_get(f"{API}/portfolios", self.list_portfolios)
        router.add_get(f"{API}/portfolios/{{portfolio_id}}", self.portfolio_breakdown)

    # -- CFM ------------------------------------------------------------------------------------------
    def _process_sweeps(self) -> None:
        now = self.exchange.clock.wall.utc()
        for sweep in self.exchange.sweeps:
            if sweep["status"] == "PENDING" and now >= sweep["_due"]:
                moved = min(Decimal(sweep["requested_amount"]["value"]), self.exchange.cfm.balance)
                self.exchange.cfm.balance -= moved
                self.exchange.wallet("USD").available += moved
                sweep["status"] = "PROCESSED"

    async def cfm_balance_summary(self, request: web.Request) -> web.Response:
        with self.exchange.lock:
            self.exchange.advance()
            self._process_sweeps()
            figures = cfm_summary(self.exchange)
        summary: dict[str, Any] = {name: amount(value) for name, value in figures.items()}
        percentage = payloads.money(figures["liquidation_buffer_percentage"])
        summary["liquidation_buffer_percentage"] = percentage
        window = {
            "margin_level": "MARGIN_LEVEL_TYPE_BASE",
            "initial_margin": summary["initial_margin"],
            "maintenance_margin": summary["liquidation_threshold"],
            "total_hold": summary["total_open_orders_hold_amount"],
            "liquidation_buffer_percentage": percentage,
            "futures_buying_power": summary["futures_buying_power"],
        }
        summary["intraday_margin_window_measure"] = {"margin_window_type": "FCM_MARGIN_WINDOW_TYPE_INTRADAY", **window}
        summary["overnight_margin_window_measure"] = {
            "margin_window_type": "FCM_MARGIN_WINDOW_TYPE_OVERNIGHT",
            **window,
        }
        return web.json_response({"balance_summary": summary})

    def _cfm_position(self, held: DerivativePosition, mark: Decimal) -> dict[str, Any]:
        cfm = self.exchange.cfm
        rate = cfm.margin_rate(held.product)
        expiry = held.product.expiry
        return {
            "product_id": held.product.product_id,
            "expiration_time": payloads.rfc3339(expiry) if expiry else "",
            "side": "LONG" if held.contracts > 0 else "SHORT",
            "number_of_contracts": payloads.money(abs(held.contracts)),
            "current_price": amount(mark),
            "avg_entry_price": amount(held.entry_price),
            "unrealized_pnl": amount(held.unrealized(mark)),
            "daily_realized_pnl": amount(held.realized_pnl),
            "contract_size": str(held.multiplier),
            "entry_vwap": amount(held.entry_price),
            "leverage": payloads.money((1 / rate).quantize(Decimal(1))),
            "im_contribution": amount(held.notional(mark) * rate),
            "mm_contribution": amount(held.notional(mark) * rate / 2),
            "position_notional": amount(held.notional(mark)),
            "total_fees": amount(held.fees),
            "liquidation_price": amount(self._liquidation_price(held)),
        }

    def _liquidation_price(self, held: DerivativePosition) -> Decimal:
        """Where the account's equity would fall to maintenance margin if only this position moved."""
        marks = self.exchange.marks()
        cfm = self.exchange.cfm
        slack = cfm.balance + cfm.unrealized(marks) - cfm.initial_margin(marks) / 2
        per_unit = abs(held.contracts) * held.multiplier
        move = slack / per_unit if per_unit else Decimal(0)
        price = marks[held.product.product_id] - move if held.contracts > 0 else marks[held.product.product_id] + move
        return max(price, Decimal(0)).quantize(held.product.quote_increment)

    def _open(self, account: MarginAccount) -> list[DerivativePosition]:
        return [p for p in account.positions.values() if p.contracts]

    async def cfm_positions(self, request: web.Request) -> web.Response:
        with self.exchange.lock:
            self.exchange.advance()
            marks = self.exchange.marks()
            rows = [self._cfm_position(p, marks[p.product.product_id]) for p in self._open(self.exchange.cfm)]
        return web.json_response({"positions": rows})

    async def cfm_position(self, request: web.Request) -> web.Response:
        product_id = request.match_info["product_id"]
        with self.exchange.lock:
            self.exchange.advance()
            held = self.exchange.cfm.positions.get(product_id)
            if held is None or not held.contracts:
                raise NotFoundError(f"no futures position in {product_id}")
            return web.json_response({"position": self._cfm_position(held, self.exchange.mid(product_id))})

    async def list_sweeps(self, request: web.Request) -> web.Response:
        with self.exchange.lock:
            self._process_sweeps()
            rows = [{k: v for k, v in s.items() if not k.startswith("_")} for s in self.exchange.sweeps]
        return web.json_response({"sweeps": rows})

    async def schedule_sweep(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            requested = Decimal(str(body.get("usd_amount", "")))
        except ArithmeticError:
            requested = Decimal(-1)
        with self.exchange.lock:
            if requested <= 0 or requested > self.exchange.cfm.balance:
                return web.json_response({"success": False})
            if any(s["status"] == "PENDING" for s in self.exchange.sweeps):
                return web.json_response({"success": False})  # Coinbase allows one pending sweep
            now = self.exchange.clock.wall.utc()
            due = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
            self.exchange.sweeps.append(
                {
                    "id": str(uuid.uuid4()),
                    "requested_amount": amount(requested),
                    "should_sweep_all": False,
                    "status": "PENDING",
                    "schedule_time": payloads.rfc3339(now),
                    "_due": due,
                }
            )
        return web.json_response({"success": True})

    async def cancel_sweep(self, request: web.Request) -> web.Response:
        with self.exchange.lock:
            pending = [s for s in self.exchange.sweeps if s["status"] == "PENDING"]
            for sweep in pending:
                sweep["status"] = "CANCELLED"
        return web.json_response({"success": bool(pending)})

    async def get_margin_setting(self, request: web.Request) -> web.Response:
        return web.json_response({"setting": self.exchange.cfm.intraday_setting})

    async def set_margin_setting(self, request: web.Request) -> web.Response:
        setting = (await request.json()).get("setting")
        if setting not in (INTRADAY_SETTING, STANDARD_SETTING):
            raise web.HTTPBadRequest(
                text=web.json_response(
                    payloads.error("INVALID_ARGUMENT", f"setting must be {INTRADAY_SETTING} or {STANDARD_SETTING}")
                ).text,
                content_type="application/json",
            )
        self.exchange.cfm.intraday_setting = setting
        return web.json_response({})

    async def current_margin_window(self, request: web.Request) -> web.Response:
        now = self.exchange.clock.wall.utc()
        intraday = intraday_window(now)
        end = now.replace(hour=21 if intraday else 13, minute=0, second=0, microsecond=0)
        if end <= now:
            end += timedelta(days=1)
        return web.json_response(
            {
                "margin_window": {
                    "margin_window_type": "FCM_MARGIN_WINDOW_TYPE_INTRADAY"
                    if intraday
                    else "FCM_MARGIN_WINDOW_TYPE_OVERNIGHT",
                    "end_time": payloads.rfc3339(end),
                },
                "is_intraday_margin_killswitch_enabled": False,
                "is_intraday_margin_enrollment_killswitch_enabled": False,
            }
        )

    # -- INTX -----------------------------------------------------------------------------------------
    def _intx(self, portfolio_id: str) -> MarginAccount:
        if not self.exchange.derivatives_enabled:
            raise NotFoundError("INTX perpetuals are not enabled for this account")
        if portfolio_id != INTX_PORTFOLIO:
            raise NotFoundError(f"INTX portfolio {portfolio_id} not found")
        return self.exchange.intx

    def _intx_position(self, held: DerivativePosition, mark: Decimal) -> dict[str, Any]:
        rate = self.exchange.intx.margin_rate(held.product)
        return {
            "product_id": held.product.product_id,
            "product_uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, held.product.product_id)),
            "portfolio_uuid": INTX_PORTFOLIO,
            "symbol": held.product.product_id,
            "vwap": amount(held.entry_price, "USDC"),
            "entry_vwap": amount(held.entry_price, "USDC"),
            "position_side": "POSITION_SIDE_LONG" if held.contracts > 0 else "POSITION_SIDE_SHORT",
            "margin_type": "MARGIN_TYPE_CROSS",
            "net_size": payloads.money(held.contracts),
            "buy_order_size": "0",
            "sell_order_size": "0",
            "im_contribution": payloads.money(rate),
            "unrealized_pnl": amount(held.unrealized(mark), "USDC"),
            "mark_price": amount(mark, "USDC"),
            "liquidation_price": amount(Decimal(0), "USDC"),
            "leverage": payloads.money((1 / rate).quantize(Decimal(1))),
            "im_notional": amount(held.notional(mark) * rate, "USDC"),
            "mm_notional": amount(held.notional(mark) * rate / 2, "USDC"),
            "position_notional": amount(held.notional(mark), "USDC"),
            "aggregated_pnl": amount(held.unrealized(mark) + held.realized_pnl - held.funding, "USDC"),
        }

    async def intx_summary(self, request: web.Request) -> web.Response:
        with self.exchange.lock:
            intx = self._intx(request.match_info["portfolio_id"])
            self.exchange.advance()
            marks = self.exchange.marks()
            unrealized = intx.unrealized(marks)
            notional = sum((p.notional(marks[p.product.product_id]) for p in self._open(intx)), Decimal(0))
            total = intx.balance + unrealized
            available = intx.available_margin(marks)
        return web.json_response(
            {
                "portfolios": [
                    {
                        "portfolio_uuid": INTX_PORTFOLIO,
                        "collateral": payloads.money(intx.balance),
                        "position_notional": payloads.money(notional),
                        "open_position_notional": payloads.money(notional),
                        "pending_fees": "0",
                        "borrow": "0",
                        "accrued_interest": "0",
                        "rolling_debt": "0",
                        "portfolio_initial_margin": payloads.money(intx.initial_margin(marks)),
                        "portfolio_im_notional": amount(intx.initial_margin(marks), "USDC"),
                        "portfolio_maintenance_margin": payloads.money(intx.initial_margin(marks) / 2),
                        "portfolio_mm_notional": amount(intx.initial_margin(marks) / 2, "USDC"),
                        "liquidation_percentage": "0",
                        "liquidation_buffer": payloads.money(available),
                        "margin_type": "MARGIN_TYPE_CROSS",
                        "margin_flags": "PORTFOLIO_MARGIN_FLAGS_UNSPECIFIED",
                        "liquidation_status": "PORTFOLIO_LIQUIDATION_STATUS_NOT_LIQUIDATING",
                        "unrealized_pnl": amount(unrealized, "USDC"),
                        "total_balance": amount(total, "USDC"),
                    }
                ],
                "summary": {
                    "unrealized_pnl": amount(unrealized, "USDC"),
                    "buying_power": amount(available, "USDC"),
                    "total_balance": amount(total, "USDC"),
                    "max_withdrawal_amount": amount(max(available, Decimal(0)), "USDC"),
                },
            }
        )

    async def intx_positions(self, request: web.Request) -> web.Response:
        with self.exchange.lock:
            intx = self._intx(request.match_info["portfolio_id"])
            self.exchange.advance()
            marks = self.exchange.marks()
            rows = [self._intx_position(p, marks[p.product.product_id]) for p in self._open(intx)]
            pnl = sum((p.unrealized(marks[p.product.product_id]) for p in self._open(intx)), Decimal(0))
        return web.json_response({"positions": rows, "summary": {"aggregated_pnl": amount(pnl, "USDC")}})

    async def intx_position(self, request: web.Request) -> web.Response:
        with self.exchange.lock:
            intx = self._intx(request.match_info["portfolio_id"])
            symbol = request.match_info["symbol"]
            self.exchange.advance()
            held = intx.positions.get(symbol)
            if held is None or not held.contracts:
                raise NotFoundError(f"no perpetual position in {symbol}")
            return web.json_response({"position": self._intx_position(held, self.exchange.mid(symbol))})

    async def intx_balances(self, request: web.Request) -> web.Response:
        with self.exchange.lock:
            intx = self._intx(request.match_info["portfolio_id"])
            balance, hold = intx.balance, intx.hold
        asset = {
            "asset_id": "USDC",
            "asset_uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, "USDC")),
            "asset_name": "USDC",
            "status": "ACTIVE",
            "collateral_weight": "1",
            "account_collateral_limit": "",
            "ecosystem_collateral_limit_breached": False,
        }
        return web.json_response(
            {
                "portfolio_balances": [
                    {
                        "portfolio_uuid": INTX_PORTFOLIO,
                        "balances": [
                            {
                                "asset": asset,
                                "quantity": payloads.money(balance),
                                "hold": payloads.money(hold),
                                "transfer_hold": "0",
                                "collateral_value": payloads.money(balance),
                                "collateral_weight": "1",
                                "max_withdraw_amount": payloads.money(balance - hold),
                                "loan": "0",
                                "loan_collateral_requirement_usd": "0",
                                "pledged_quantity": "0",
                            }
                        ],
                        "is_margin_limit_reached": False,
                    }
                ]
            }
        )

    # -- portfolios -----------------------------------------------------------------------------------
    def _portfolios(self) -> list[dict[str, Any]]:
        rows = [{"name": "Default", "uuid": DEFAULT_PORTFOLIO, "type": "DEFAULT", "deleted": False}]
        if self.exchange.derivatives_enabled:
            rows.append({"name": "Perpetuals", "uuid": INTX_PORTFOLIO, "type": "INTX", "deleted": False})
        return rows

    async def list_portfolios(self, request: web.Request) -> web.Response:
        wanted = request.query.get("portfolio_type")
        return web.json_response({"portfolios": [p for p in self._portfolios() if not wanted or p["type"] == wanted]})

    async def portfolio_breakdown(self, request: web.Request) -> web.Response:
        portfolio = next((p for p in self._portfolios() if p["uuid"] == request.match_info["portfolio_id"]), None)
        if portfolio is None:
            raise NotFoundError(f"portfolio {request.match_info['portfolio_id']} not found")
        with self.exchange.lock:
            self.exchange.advance()
            marks = self.exchange.marks()
            spot = []
            crypto_total = cash_total = Decimal(0)
            for wallet in self.exchange.accounts.values():
                total = wallet.available + wallet.hold
                is_cash = wallet.currency in ("USD", "USDC")
                product_id = f"{wallet.currency}-USD"
                value = (
                    total
                    if is_cash
                    else total * (self.exchange.mid(product_id) if product_id in self.exchange.listings else Decimal(0))
                )
                crypto_total += Decimal(0) if is_cash else value
                cash_total += value if is_cash else Decimal(0)
                spot.append(
                    {
                        "asset": wallet.currency,
                        "account_uuid": wallet.uuid,
                        "total_balance_fiat": float(value),
                        "total_balance_crypto": float(total),
                        "available_to_trade_fiat": float(wallet.available if is_cash else value),
                        "allocation": 0.0,
                        "cost_basis": amount(Decimal(0)),
                        "asset_img_url": "",
                        "is_cash": is_cash,
                    }
                )
            futures = [self._cfm_position(p, marks[p.product.product_id]) for p in self._open(self.exchange.cfm)]
            perps = (
                [self._intx_position(p, marks[p.product.product_id]) for p in self._open(self.exchange.intx)]
                if self.exchange.derivatives_enabled
                else []
            )
            grand = crypto_total + cash_total + self.exchange.cfm.balance
            for row in spot:
                row["allocation"] = float(Decimal(str(row["total_balance_fiat"])) / grand) if grand else 0.0
        return web.json_response(
            {
                "breakdown": {
                    "portfolio": portfolio,
                    "portfolio_balances": {
                        "total_balance": amount(grand),
                        "total_futures_balance": amount(self.exchange.cfm.balance),
                        "total_cash_equivalent_balance": amount(cash_total),
                        "total_crypto_balance": amount(crypto_total),
                        "futures_unrealized_pnl": amount(self.exchange.cfm.unrealized(marks)),
                        "perp_unrealized_pnl": amount(self.exchange.intx.unrealized(marks)),
                    },
                    "spot_positions": spot,
                    "perp_positions": perps,
                    "futures_positions": futures,
                }
            }
        )
