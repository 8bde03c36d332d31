"""Orders through the official SDK: fills, holds, fees, partial maker fills, cancels and rejects."""

from decimal import Decimal

from coinbase.rest import RESTClient

from tests.integration.sandbox.conftest import SandboxFactory, admin, sdk_client

TAKER, MAKER = Decimal("0.006"), Decimal("0.004")


def balances(client: RESTClient) -> dict[str, tuple[Decimal, Decimal]]:
    return {
        a.currency: (Decimal(a.available_balance["value"]), Decimal(a.hold["value"]))
        for a in client.get_accounts().accounts
    }


def best(client: RESTClient, product_id: str = "BTC-USD") -> tuple[Decimal, Decimal]:
    book = client.get_best_bid_ask(product_ids=[product_id]).pricebooks[0]
    return Decimal(book.bids[0]["price"]), Decimal(book.asks[0]["price"])


def test_market_buy_walks_the_book_and_pays_taker_fees(client: RESTClient) -> None:
    before = balances(client)
    _, ask = best(client)
    result = client.market_order_buy(client_order_id="m-1", product_id="BTC-USD", base_size="0.5")
    assert result.success
    order = client.get_order(result.success_response["order_id"]).order
    assert order.status == "FILLED"
    assert Decimal(order.filled_size) == Decimal("0.5")
    assert int(order.number_of_fills) > 1, "0.5 BTC should take more than the touch"
    assert Decimal(order.average_filled_price) > ask
    value = Decimal(order.filled_value)
    assert Decimal(order.total_fees) == value * TAKER
    after = balances(client)
    assert after["BTC"][0] == before["BTC"][0] + Decimal("0.5")
    assert after["USD"][0] == before["USD"][0] - value - value * TAKER
    fills = client.get_fills(order_ids=[order.order_id]).fills
    assert sum(Decimal(f["size"]) for f in fills) == Decimal("0.5")
    assert {f["liquidity_indicator"] for f in fills} == {"TAKER"}


def test_a_used_client_order_id_never_makes_a_second_order(client: RESTClient) -> None:
    first = client.market_order_buy(client_order_id="dup-1", product_id="BTC-USD", base_size="0.01")
    again = client.market_order_buy(client_order_id="dup-1", product_id="BTC-USD", base_size="0.01")
    assert again.success
    assert again.success_response["order_id"] == first.success_response["order_id"]
    assert len(client.list_orders().orders) == 1
    assert len(client.get_fills().fills) == len(client.get_fills(order_ids=[first.success_response["order_id"]]).fills)


def test_resting_limit_holds_funds_fills_in_parts_as_maker(start_sandbox: SandboxFactory) -> None:
    sandbox = start_sandbox(starting_balances={"USD": Decimal(1_000_000)})
    client = sdk_client(sandbox)
    bid, _ = best(client)
    limit = (bid * Decimal("0.999")).quantize(Decimal("0.01"))
    size = Decimal("4")  # more than a quarter of a minute's volume (~5 BTC): it cannot fill at once
    result = client.limit_order_gtc_buy(
        client_order_id="l-1", product_id="BTC-USD", base_size=str(size), limit_price=str(limit)
    )
    assert result.success
    order_id = result.success_response["order_id"]
    order = client.get_order(order_id).order
    assert order.status == "OPEN"
    assert balances(client)["USD"][1] == size * limit * (1 + TAKER)
    partial_seen = False
    for _ in range(3 * 24 * 60):  # walk the path a minute at a time until the order is done
        admin(sandbox, advance_minutes=1)
        order = client.get_order(order_id).order
        if order.status == "OPEN" and Decimal(order.filled_size) > 0:
            partial_seen = True
            hold = balances(client)["USD"][1]
            assert hold == (size - Decimal(order.filled_size)) * limit * (1 + TAKER)
        if order.status == "FILLED":
            break
    assert order.status == "FILLED", "the price never came down 0.1% in three days of path"
    assert partial_seen
    assert Decimal(order.average_filled_price) == limit
    fills = client.get_fills(order_ids=[order_id]).fills
    assert len(fills) >= 2
    assert {f["liquidity_indicator"] for f in fills} == {"MAKER"}
    assert sum(Decimal(f["commission"]) for f in fills) == size * limit * MAKER
    assert balances(client)["USD"] == (Decimal(1_000_000) - size * limit * (1 + MAKER), Decimal(0))


def test_cancel_releases_the_hold(client: RESTClient) -> None:
    before = balances(client)
    _, ask = best(client)
    result = client.limit_order_gtc_sell(
        client_order_id="s-1", product_id="BTC-USD", base_size="0.4", limit_price=str(ask * 2)
    )
    assert balances(client)["BTC"] == (before["BTC"][0] - Decimal("0.4"), Decimal("0.4"))
    order_id = result.success_response["order_id"]
    cancelled = client.cancel_orders(order_ids=[order_id]).results
    assert cancelled[0]["success"] is True
    assert client.get_order(order_id).order.status == "CANCELLED"
    assert balances(client)["BTC"] == before["BTC"]
    again = client.cancel_orders(order_ids=[order_id]).results
    assert again[0]["success"] is False


def test_ioc_partially_fills_and_cancels_the_rest(client: RESTClient) -> None:
    _, ask = best(client)
    result = client.limit_order_ioc_buy(
        client_order_id="i-1", product_id="BTC-USD", base_size="0.5", limit_price=str(ask)
    )
    order = client.get_order(result.success_response["order_id"]).order
    assert order.status == "CANCELLED"
    assert Decimal("0") < Decimal(order.filled_size) < Decimal("0.5")
    assert balances(client)["USD"][1] == 0


def test_fok_fills_whole_or_not_at_all(client: RESTClient) -> None:
    _, ask = best(client)
    killed = client.limit_order_fok_buy(
        client_order_id="f-1", product_id="BTC-USD", base_size="0.5", limit_price=str(ask)
    )
    order = client.get_order(killed.success_response["order_id"]).order
    assert (order.status, Decimal(order.filled_size)) == ("CANCELLED", Decimal(0))
    whole = client.limit_order_fok_buy(
        client_order_id="f-2", product_id="BTC-USD", base_size="0.001", limit_price=str(ask)
    )
    assert client.get_order(whole.success_response["order_id"]).order.status == "FILLED"


def test_post_only_that_would_take_is_rejected(client: RESTClient) -> None:
    _, ask = best(client)
    result = client.limit_order_gtc_buy(
        client_order_id="p-1", product_id="BTC-USD", base_size="0.01", limit_price=str(ask), post_only=True
    )
    assert result.success is False
    assert result.error_response["error"] == "INVALID_LIMIT_PRICE_POST_ONLY"


def test_rejects_are_http_200_with_coinbase_reasons(client: RESTClient) -> None:
    cases = {
        "INSUFFICIENT_FUND": {"product_id": "BTC-USD", "base_size": "50"},
        "INVALID_SIZE_PRECISION": {"product_id": "BTC-USD", "base_size": "0.000000001"},
        "INVALID_PRODUCT_ID": {"product_id": "FOO-USD", "base_size": "1"},
    }
    for i, (reason, args) in enumerate(cases.items()):
        result = client.market_order_buy(client_order_id=f"r-{i}", **args)
        assert result.success is False, reason
        assert result.error_response["error"] == reason
        assert args["product_id"] in result.error_response["message"] or reason != "INVALID_PRODUCT_ID"
    bad_price = client.limit_order_gtc_buy(
        client_order_id="r-9", product_id="BTC-USD", base_size="0.01", limit_price="100.001"
    )
    assert bad_price.error_response["error"] == "INVALID_PRICE_PRECISION"
    assert client.list_orders().orders == []


def test_preview_prices_an_order_without_placing_it(client: RESTClient) -> None:
    before = balances(client)
    preview = client.preview_market_order_buy(product_id="BTC-USD", base_size="0.1")
    assert preview.errs == []
    assert Decimal(preview.commission_total) == Decimal(preview.quote_size) * TAKER
    assert Decimal(preview.order_total) == Decimal(preview.quote_size) + Decimal(preview.commission_total)
    refused = client.preview_market_order_buy(product_id="BTC-USD", base_size="500")
    assert refused.errs == ["PREVIEW_INSUFFICIENT_FUND"]
    assert balances(client) == before
    assert client.list_orders().orders == []


def test_fee_tier_and_permissions(client: RESTClient) -> None:
    summary = client.get_transaction_summary()
    assert summary.fee_tier["taker_fee_rate"] == "0.006"
    assert summary.fee_tier["maker_fee_rate"] == "0.004"
    assert client.get_api_key_permissions().can_trade is True
