"""Coinbase's paging for the sandbox's listings: by cursor (orders, fills, accounts), by offset (products).

A cursor names the last entry a page gave by its place in the exchange's whole record (the order of creation),
not by its place in the filtered answer: entries added meanwhile, or ones that left a filter (an open order
that filled), neither repeat nor skip an entry on the next page. It is opaque to clients (base64 of the
listing and the place) and belongs to one listing; anything else sent as a cursor is refused.
"""

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from multidict import MultiMapping


class BadPageRequest(ValueError):
    """A limit or cursor the listing cannot serve (answered as HTTP 400 INVALID_ARGUMENT)."""


@dataclass(frozen=True, slots=True)
class Listing:
    name: str
    newest_first: bool  # orders and fills list the newest first; accounts in the order they were opened
    default_limit: int
    max_limit: int


ORDERS = Listing("orders", True, 1000, 1000)
FILLS = Listing("fills", True, 1000, 1000)
ACCOUNTS = Listing("accounts", False, 49, 250)  # the reference's default and maximum


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[dict[str, Any]]
    has_next: bool
    cursor: str  # "" on the last page


def page(listing: Listing, entries: list[tuple[int, dict[str, Any]]], query: MultiMapping[str]) -> Page:
    """One page of `entries` ((place, body) in creation order, already filtered): up to `limit` of them after
    the entry the cursor names. A limit above the listing's maximum is cut to it, as Coinbase does."""
    try:
        limit = int(query.get("limit") or listing.default_limit)
    except ValueError:
        raise BadPageRequest(f"limit must be a whole number, got {query.get('limit')!r}") from None
    if limit < 1:
        raise BadPageRequest(f"limit must be at least 1, got {limit}")
    limit = min(limit, listing.max_limit)
    ordered = list(reversed(entries)) if listing.newest_first else entries
    raw = query.get("cursor")
    if raw:
        after = _place(listing, raw)
        ordered = [entry for entry in ordered if (entry[0] < after if listing.newest_first else entry[0] > after)]
    rows = ordered[:limit]
    more = len(ordered) > limit
    return Page([body for _, body in rows], more, _cursor(listing, rows[-1][0]) if more else "")


def offset_page(rows: list[dict[str, Any]], query: MultiMapping[str]) -> list[dict[str, Any]]:
    """Products page by `offset` and `limit`, not by cursor: `limit` rows from `offset`, all of them without a
    limit (Coinbase's List Products answers every product unless asked for fewer)."""
    try:
        offset = int(query.get("offset") or 0)
        limit = int(query["limit"]) if query.get("limit") else None
    except ValueError:
        raise BadPageRequest("offset and limit must be whole numbers") from None
    if offset < 0 or (limit is not None and limit < 1):
        raise BadPageRequest(f"offset must be at least 0 and limit at least 1, got {offset} and {limit}")
    return rows[offset:] if limit is None else rows[offset : offset + limit]


def _cursor(listing: Listing, place: int) -> str:
    return base64.urlsafe_b64encode(f"{listing.name}:{place}".encode()).decode().rstrip("=")


def _place(listing: Listing, cursor: str) -> int:
    try:
        name, _, place = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition(":")
        if name != listing.name:
            raise ValueError(name)
        return int(place)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadPageRequest(f"cursor {cursor!r} is not one that a page of {listing.name} gave") from None
