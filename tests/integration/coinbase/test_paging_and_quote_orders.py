"""The adapter reads paged listings whole (against the sandbox's cursors, one or two entries a page) and never
loops on a venue that repeats a cursor or never stops (a tiny stub venue over HTTPS); it reads back orders
sized in quote, and accounts of either spelling of Coinbase's types."""

import json
import ssl
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from coinbase.rest import RESTClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gpttrader.brokers.coinbase import CoinbaseBroker
from gpttrader.brokers.coinbase.transport import trust_certificate
from gpttrader.brokers.errors import MalformedAnswerError
from gpttrader.domain import OrderStatus
from gpttrader.sandbox import RunningSandbox
from gpttrader.sandbox.tls import make_self_signed
from tests.integration.sandbox.conftest import sdk_client
from tests.integration.sandbox.test_quote_orders_and_paging import trade


@pytest.mark.parametrize("page_size", [1, 2])
def test_the_adapter_walks_every_page_of_orders_fills_and_accounts(sandbox: RunningSandbox, page_size: int) -> None:
    client = sdk_client(sandbox)
    placed = trade(client, 5)
    broker = CoinbaseBroker(sdk_client(sandbox), page_size=page_size)
    assert [o.order_id for o in broker.list_orders()] == list(reversed(placed))
    assert [o.order_id for o in broker.list_orders("ETH-USD")] == [placed[4], placed[1]]
    every_fill = sorted(f["trade_id"] for f in client.get_fills().fills)
    assert sorted(f.trade_id for f in broker.fills()) == every_fill
    assert {b.currency for b in broker.balances()} == {a.currency for a in client.get_accounts().accounts}


def test_an_order_sized_in_quote_reads_back_in_base(sandbox: RunningSandbox) -> None:
    """A market buy placed by dollar amount (by hand, in the Coinbase app): its size is what it bought, and its
    fills, which Coinbase reports in quote, read back in base."""
    client = sdk_client(sandbox)
    result = client.market_order_buy(client_order_id="by-dollars", product_id="BTC-USD", quote_size="100")
    assert result.success
    order_id = result.success_response["order_id"]
    venue = client.get_order(order_id).order
    broker = CoinbaseBroker(sdk_client(sandbox))
    order = broker.get_order(order_id)
    assert order.status is OrderStatus.FILLED
    assert order.request.size == order.filled_size == Decimal(venue.filled_size)
    assert order.fees == Decimal(venue.total_fees)
    assert [o.order_id for o in broker.list_orders("BTC-USD")] == [order_id]
    fills = broker.fills(order_id=order_id)
    assert sum(f.size for f in fills) == order.filled_size
    assert sum(f.size * f.price for f in fills) == Decimal(venue.filled_value)
    assert {f.client_order_id for f in fills} == {"by-dollars"}


Route = Callable[[dict[str, list[str]]], dict[str, Any]]


class StubVenue:
    """A few Advanced Trade paths over HTTPS on loopback, each answering as its route says; it records the
    queries it was sent. Authentication is not checked: only the adapter's reading is under test."""

    def __init__(self, folder: Path, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.queries: list[dict[str, list[str]]] = []
        venue = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                venue.queries.append(query)
                route = venue.routes.get(url.path.removeprefix("/api/v3/brokerage"))
                body = json.dumps(route(query) if route else {"error": "NOT_FOUND"}).encode()
                self.send_response(200 if route else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.cert, key = make_self_signed(folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def broker(self, **options: Any) -> CoinbaseBroker:
        secret = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
        client = RESTClient(
            api_key="organizations/stub/apiKeys/stub", api_secret=secret.decode(), base_url=self.base_url, timeout=5
        )
        trust_certificate(client.session, self.base_url, self.cert)
        return CoinbaseBroker(client, **options)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def stub(tmp_path: Path) -> Iterator[Callable[[dict[str, Route]], StubVenue]]:
    started: list[StubVenue] = []

    def start(routes: dict[str, Route]) -> StubVenue:
        venue = StubVenue(tmp_path / f"stub-{len(started)}", routes)
        started.append(venue)
        return venue

    yield start
    for venue in started:
        venue.stop()


def account(currency: str, kind: str, amount: str) -> dict[str, Any]:
    return {
        "uuid": f"{currency}-{kind}",
        "currency": currency,
        "type": kind,
        "available_balance": {"value": amount, "currency": currency},
        "hold": {"value": "0", "currency": currency},
    }


def test_a_repeated_cursor_ends_the_walk_as_an_error(stub: Callable[[dict[str, Route]], StubVenue]) -> None:
    """A venue that answers the same next cursor again would loop a `while has_next` reader forever."""
    page = {"accounts": [account("USD", "ACCOUNT_TYPE_FIAT", "1")], "has_next": True, "cursor": "again", "size": 1}
    venue = stub({"/accounts": lambda _: page})
    with pytest.raises(MalformedAnswerError, match="list accounts"):
        venue.broker().balances()
    assert [q.get("cursor") for q in venue.queries] == [None, ["again"]]


def test_a_listing_that_never_ends_stops_at_the_page_limit(stub: Callable[[dict[str, Route]], StubVenue]) -> None:
    def endless(query: dict[str, list[str]]) -> dict[str, Any]:
        n = int(query.get("cursor", ["0"])[0]) + 1
        return {"fills": [], "cursor": str(n)}

    venue = stub({"/orders/historical/fills": endless})
    with pytest.raises(MalformedAnswerError, match="after 3 pages"):
        venue.broker(max_pages=3).fills(order_id="o-1")
    assert len(venue.queries) == 3
    assert all(q["limit"] == ["250"] for q in venue.queries)


def test_accounts_of_either_spelling_are_read_and_vaults_are_not_spot(
    stub: Callable[[dict[str, Route]], StubVenue],
) -> None:
    accounts = [
        account("USD", "FIAT", "10"),
        account("BTC", "ACCOUNT_TYPE_CRYPTO", "0.5"),
        account("ETH", "CRYPTO", "2"),
        account("USDC", "ACCOUNT_TYPE_FIAT", "7"),
        account("USD", "ACCOUNT_TYPE_VAULT", "1000"),  # locked behind a withdrawal delay: not buying power
        account("USDC", "ACCOUNT_TYPE_PERP_FUTURES", "500"),  # INTX collateral, read from its portfolio
    ]
    pages = {None: (accounts[:3], "p2"), "p2": (accounts[3:], "")}

    def listing(query: dict[str, list[str]]) -> dict[str, Any]:
        rows, following = pages[query.get("cursor", [None])[0]]
        return {"accounts": rows, "has_next": bool(following), "cursor": following, "size": len(rows)}

    venue = stub({"/accounts": listing})
    assert venue.broker().cash() == {
        "USD": Decimal(10),
        "BTC": Decimal("0.5"),
        "ETH": Decimal(2),
        "USDC": Decimal(7),
    }
