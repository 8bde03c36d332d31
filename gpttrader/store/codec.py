"""JSON for stored payloads: Decimal kept exact as a string, times in RFC 3339, secrets never stored."""

import dataclasses
import json
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from gpttrader.config.redaction import redact
from gpttrader.config.secrets import Secret
from gpttrader.domain import Fill, Liquidity, Order, OrderRequest, OrderStatus, OrderType, Side, TimeInForce


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Secret):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot store a {type(value).__name__} in a JSON payload")


def dumps(payload: object) -> str:
    """Serialize and redact: a token or key that reached a payload through an error message is removed."""
    return redact(json.dumps(payload, default=_default, sort_keys=True, separators=(",", ":")))


def loads(text: str) -> Any:
    return json.loads(text)


def format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"refusing to store a naive datetime {moment.isoformat()}")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def utc_now() -> datetime:
    return datetime.now(UTC)


def request_from_dict(data: dict[str, Any]) -> OrderRequest:
    return OrderRequest(
        client_order_id=data["client_order_id"],
        product_id=data["product_id"],
        side=Side(data["side"]),
        order_type=OrderType(data["order_type"]),
        size=Decimal(data["size"]),
        limit_price=_decimal(data["limit_price"]),
        stop_price=_decimal(data["stop_price"]),
        time_in_force=TimeInForce(data["time_in_force"]),
        end_time=None if data["end_time"] is None else parse_time(data["end_time"]),
        post_only=bool(data["post_only"]),
        reduce_only=bool(data["reduce_only"]),
    )


def order_from_dict(data: dict[str, Any]) -> Order:
    return Order(
        request=request_from_dict(data["request"]),
        status=OrderStatus(data["status"]),
        created_at=parse_time(data["created_at"]),
        updated_at=parse_time(data["updated_at"]),
        order_id=data["order_id"],
        filled_size=Decimal(data["filled_size"]),
        average_filled_price=_decimal(data["average_filled_price"]),
        fees=Decimal(data["fees"]),
        reject_reason=data["reject_reason"],
    )


def fill_from_dict(data: dict[str, Any]) -> Fill:
    return Fill(
        trade_id=data["trade_id"],
        client_order_id=data["client_order_id"],
        product_id=data["product_id"],
        side=Side(data["side"]),
        price=Decimal(data["price"]),
        size=Decimal(data["size"]),
        fee=Decimal(data["fee"]),
        liquidity=Liquidity(data["liquidity"]),
        time=parse_time(data["time"]),
        order_id=data["order_id"],
    )


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)
