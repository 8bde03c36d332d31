"""Listings are read whole or not at all: Coinbase's fills page by cursor alone (no `has_next`), and a page
that says there is more without saying where is malformed, never taken for the whole listing. An order of a
kind the bot never places is skipped and reported; one missing a field still fails the listing."""

from typing import Any

import pytest

from gpttrader.brokers.coinbase.broker import CoinbaseBroker
from gpttrader.brokers.errors import MalformedAnswerError


def fill(n: int) -> dict[str, Any]:
    return {
        "trade_id": f"t{n}",
        "order_id": "o1",
        "trade_time": "2026-01-01T00:00:00Z",
        "price": "100",
        "size": "0.001",
        "commission": "0.01",
        "product_id": "BTC-USD",
        "liquidity_indicator": "TAKER",
        "side": "BUY",
    }


class PagedClient:
    """The two listing calls of the SDK's RESTClient, answering pages as given."""

    def __init__(self, fills: list[dict[str, Any]], orders: list[dict[str, Any]]) -> None:
        self.pages = {"fills": fills, "orders": orders}
        self.cursors: list[str | None] = []

    def get_fills(self, cursor: str | None = None, **_: Any) -> dict[str, Any]:
        self.cursors.append(cursor)
        return self.pages["fills"].pop(0)

    def list_orders(self, cursor: str | None = None, **_: Any) -> dict[str, Any]:
        self.cursors.append(cursor)
        return self.pages["orders"].pop(0)


def broker(client: PagedClient) -> CoinbaseBroker:
    adapter = CoinbaseBroker(client)  # type: ignore[arg-type]
    adapter._client_ids["o1"] = "c1"  # the fills' order, known already: no order look-up
    return adapter


def test_fills_follow_the_cursor_without_has_next() -> None:
    client = PagedClient([{"fills": [fill(1)], "cursor": "p2"}, {"fills": [fill(2)], "cursor": ""}], [])
    assert [f.trade_id for f in broker(client).fills(order_id="o1")] == ["t1", "t2"]
    assert client.cursors == [None, "p2"]


@pytest.mark.parametrize(
    "pages",
    [
        [{"orders": [], "has_next": True, "cursor": ""}],  # more, but from where?
        [{"orders": [], "has_next": True, "cursor": "p2"}, {"orders": [], "has_next": True, "cursor": "p2"}],
        [{"orders": [], "has_next": "yes", "cursor": ""}],
    ],
)
def test_a_listing_cut_short_is_malformed(pages: list[dict[str, Any]]) -> None:
    with pytest.raises(MalformedAnswerError, match="list orders"):
        broker(PagedClient([], pages)).list_orders("BTC-USD")


def listed_order(order_id: str, configuration: dict[str, Any], status: str = "OPEN") -> dict[str, Any]:
    """An order as Coinbase lists it (the fields the adapter reads; the reference payload's values)."""
    return {
        "order_id": order_id,
        "client_order_id": f"c-{order_id}",
        "product_id": "BTC-USD",
        "side": "BUY",
        "order_configuration": configuration,
        "status": status,
        "created_time": "2024-01-15T10:00:00Z",
        "filled_size": "0",
        "total_fees": "0",
    }


def test_orders_placed_by_hand_of_kinds_the_bot_never_places_are_skipped_not_fatal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An order placed in the Coinbase app by dollar amount, a TWAP, a status Coinbase added since: the listing
    (and with it reconciliation) goes on without them, and says so once."""
    ours = listed_order("o-1", {"limit_limit_gtc": {"base_size": "0.01", "limit_price": "45000.00"}})
    by_dollars = listed_order("o-2", {"market_market_ioc": {"quote_size": "100"}}, "FILLED")
    twap = listed_order("o-3", {"twap_limit_gtd": {"base_size": "1", "limit_price": "1"}})
    newer = listed_order("o-4", {"limit_limit_gtc": {"base_size": "0.01", "limit_price": "1.00"}}, "EDIT_QUEUED")
    page = {"orders": [ours, by_dollars, twap, newer], "has_next": False, "cursor": ""}
    adapter = broker(PagedClient([], [page, dict(page)]))
    assert [o.order_id for o in adapter.list_orders("BTC-USD")] == ["o-1"]
    assert [o.order_id for o in adapter.list_orders("BTC-USD")] == ["o-1"]
    skipped = [r.getMessage() for r in caplog.records if "skips an order" in r.getMessage()]
    assert len(skipped) == 3  # each reported once, not on every listing
    assert any("quote currency" in m for m in skipped)
    assert any("twap_limit_gtd" in m for m in skipped)
    assert any("EDIT_QUEUED" in m for m in skipped)


def test_an_order_missing_a_field_still_fails_the_listing() -> None:
    broken = listed_order("o-5", {"limit_limit_gtc": {"base_size": "0.01", "limit_price": "45000.00"}})
    del broken["filled_size"]
    page = {"orders": [broken], "has_next": False, "cursor": ""}
    with pytest.raises(MalformedAnswerError, match="filled_size"):
        broker(PagedClient([], [page])).list_orders("BTC-USD")
