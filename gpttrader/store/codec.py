"""JSON for stored payloads: Decimal kept exact as a string, times in RFC 3339, secrets never stored."""

import dataclasses
import json
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from gpttrader.config.redaction import redact
from gpttrader.config.secrets import Secret


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
