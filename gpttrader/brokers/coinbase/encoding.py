"""Encode a quantized OrderRequest as Coinbase's order_configuration."""

from datetime import UTC
from typing import Any

from gpttrader.domain import OrderRequest, OrderType, Side, TimeInForce

_KEYS: dict[tuple[OrderType, TimeInForce], str] = {
    (OrderType.MARKET, TimeInForce.IOC): "market_market_ioc",
    (OrderType.MARKET, TimeInForce.FOK): "market_market_fok",
    (OrderType.LIMIT, TimeInForce.GTC): "limit_limit_gtc",
    (OrderType.LIMIT, TimeInForce.GTD): "limit_limit_gtd",
    (OrderType.LIMIT, TimeInForce.FOK): "limit_limit_fok",
    (OrderType.LIMIT, TimeInForce.IOC): "sor_limit_ioc",
    (OrderType.STOP_LIMIT, TimeInForce.GTC): "stop_limit_stop_limit_gtc",
    (OrderType.STOP_LIMIT, TimeInForce.GTD): "stop_limit_stop_limit_gtd",
    (OrderType.BRACKET, TimeInForce.GTC): "trigger_bracket_gtc",
    (OrderType.BRACKET, TimeInForce.GTD): "trigger_bracket_gtd",
}


def order_configuration(request: OrderRequest) -> dict[str, dict[str, Any]]:
    tif = request.time_in_force
    assert tif is not None  # OrderRequest fills in the default
    key = _KEYS.get((request.order_type, tif))
    if key is None:
        raise ValueError(f"Coinbase has no {request.order_type} order with time in force {tif}")
    params: dict[str, Any] = {"base_size": str(request.size)}
    if request.order_type is OrderType.STOP_LIMIT:
        params["limit_price"] = str(request.limit_price)
        params["stop_price"] = str(request.stop_price)
        # A buy stop fires as the price rises through it, a sell stop as it falls.
        params["stop_direction"] = "STOP_DIRECTION_STOP_UP" if request.side is Side.BUY else "STOP_DIRECTION_STOP_DOWN"
    elif request.order_type is OrderType.BRACKET:
        params["limit_price"] = str(request.limit_price)
        params["stop_trigger_price"] = str(request.stop_price)
    elif request.order_type is OrderType.LIMIT:
        params["limit_price"] = str(request.limit_price)
        if tif in (TimeInForce.GTC, TimeInForce.GTD):
            params["post_only"] = request.post_only
    if request.end_time is not None:
        params["end_time"] = request.end_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {key: params}
