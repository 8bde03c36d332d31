"""The query filters of the sandbox's listings, by the names Coinbase's reference and the SDK send.

A list filter is repeated keys (the SDK sends lists so); a filter not given lets everything through. The
reference still lists the singular `product_id` (orders, fills) and `order_id` (fills) beside the plural ones:
both are read, together. Times are RFC 3339; a start is inclusive and an end exclusive.
"""

from collections.abc import Mapping
from datetime import datetime

from multidict import MultiMapping

from gpttrader.sandbox.paging import BadPageRequest


def wanted(query: MultiMapping[str], *names: str) -> frozenset[str]:
    """Every value given under any of `names` (a plural key and its singular alias)."""
    return frozenset(value for name in names for value in query.getall(name, []) if value)


def moment(query: MultiMapping[str], name: str) -> datetime | None:
    raw = query.get(name)
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadPageRequest(f"{name} must be an RFC 3339 time, got {raw!r}") from None
    if parsed.tzinfo is None:
        raise BadPageRequest(f"{name} must carry its UTC offset, got {raw!r}")
    return parsed


def passes(filters: Mapping[str, frozenset[str]], **values: str) -> bool:
    return all(not filters[name] or value in filters[name] for name, value in values.items())


def within(when: datetime, start: datetime | None, end: datetime | None) -> bool:
    return (start is None or when >= start) and (end is None or when < end)
