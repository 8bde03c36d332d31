"""Listings are read whole or not at all: Coinbase's fills page by cursor alone (no `has_next`), and a page
that says there is more without saying where is malformed, never taken for the whole listing."""

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
