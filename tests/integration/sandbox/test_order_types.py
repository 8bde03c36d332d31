"""Stop-limit, bracket and edited orders through the official SDK."""

from decimal import Decimal

from coinbase.rest import RESTClient

from gpttrader.sandbox import RunningSandbox
from tests.integration.sandbox.conftest import SandboxFactory, admin, sdk_client


def mid(client: RESTClient, product_id: str = "BTC-USD") -> Decimal:
    return Decimal(client.get_product(product_id).price)


def walk_until(
    sandbox: RunningSandbox, client: RESTClient, order_id: str, done: set[str], minutes: int = 5 * 1440
) -> str:
    for _ in range(minutes):
        admin(sandbox, advance_minutes=1)
        status = client.get_order(order_id).order.status
        if status in done:
            return str(status)
    raise AssertionError(f"order {order_id} did not reach {done} in {minutes} minutes of path")


def test_stop_limit_waits_for_its_stop_then_trades(sandbox: RunningSandbox, client: RESTClient) -> None:
    price = mid(client)
    stop = (price * Decimal("0.995")).quantize(Decimal("0.01"))
    limit = (stop * Decimal("0.99")).quantize(Decimal("0.01"))
    placed = client.stop_limit_order_gtc_sell(
        client_order_id="sl-1",
        product_id="BTC-USD",
        base_size="0.1",
        limit_price=str(limit),
        stop_price=str(stop),
        stop_direction="STOP_DIRECTION_STOP_DOWN",
    )
    assert placed.success, placed.to_dict()
    order_id = placed.success_response["order_id"]
    order = client.get_order(order_id).order
    assert (order.status, order.trigger_status) == ("OPEN", "STOP_PENDING")
    assert Decimal(order.filled_size) == 0
    walk_until(sandbox, client, order_id, {"FILLED"})
    order = client.get_order(order_id).order
    assert order.trigger_status == "STOP_TRIGGERED"
    assert Decimal(order.average_filled_price) >= limit


def test_bracket_fills_one_leg_and_cancels_the_other(start_sandbox: SandboxFactory) -> None:
    outcomes = set()
    for seed in (3, 4, 5, 6):
        sandbox = start_sandbox(seed=seed)
        client = sdk_client(sandbox)
        price = mid(client)
        take_profit = (price * Decimal("1.004")).quantize(Decimal("0.01"))
        stop = (price * Decimal("0.996")).quantize(Decimal("0.01"))
        placed = client.trigger_bracket_order_gtc_sell(
            client_order_id=f"br-{seed}",
            product_id="BTC-USD",
            base_size="0.2",
            limit_price=str(take_profit),
            stop_trigger_price=str(stop),
        )
        assert placed.success, placed.to_dict()
        order_id = placed.success_response["order_id"]
        assert client.get_order(order_id).order.trigger_status == "STOP_PENDING"
        walk_until(sandbox, client, order_id, {"FILLED"})
        order = client.get_order(order_id).order
        fills = client.get_fills(order_ids=[order_id]).fills
        legs = {f["liquidity_indicator"] for f in fills}
        assert len(legs) == 1, "a bracket fills by one leg only"
        if legs == {"MAKER"}:  # take profit: every fill at the limit, the stop never fired
            assert {Decimal(f["price"]) for f in fills} == {take_profit}
            assert order.trigger_status == "STOP_PENDING"
            outcomes.add("take_profit")
        else:  # stop: the rest went at market below the trigger, nothing at the take-profit price
            assert order.trigger_status == "STOP_TRIGGERED"
            assert all(Decimal(f["price"]) <= stop for f in fills)
            outcomes.add("stop")
        assert Decimal(order.filled_size) == Decimal("0.2")
        assert Decimal(client.get_accounts().accounts[2].hold["value"]) == 0  # BTC hold released
    assert outcomes == {"take_profit", "stop"}, f"four paths should show both legs, saw {outcomes}"


def test_placed_partially_filled_amended_and_cancelled(start_sandbox: SandboxFactory) -> None:
    sandbox = start_sandbox(starting_balances={"USD": Decimal(1_000_000)})
    client = sdk_client(sandbox)
    bid = Decimal(client.get_best_bid_ask(product_ids=["BTC-USD"]).pricebooks[0].bids[0]["price"])
    limit = (bid * Decimal("0.999")).quantize(Decimal("0.01"))
    placed = client.limit_order_gtc_buy(
        client_order_id="amend-1", product_id="BTC-USD", base_size="6", limit_price=str(limit)
    )
    order_id = placed.success_response["order_id"]
    for _ in range(3 * 1440):
        admin(sandbox, advance_minutes=1)
        if Decimal(client.get_order(order_id).order.filled_size) > 0:
            break
    order = client.get_order(order_id).order
    filled = Decimal(order.filled_size)
    assert order.status == "OPEN"
    assert 0 < filled < 6
    too_small = client.edit_order(order_id=order_id, size=str(filled), price=str(limit))
    assert too_small.success is False
    assert too_small.errors[0]["edit_failure_reason"] == "CANNOT_EDIT_TO_BELOW_FILLED_SIZE"
    held = next(a for a in client.get_accounts().accounts if a.currency == "USD").hold["value"]
    for call in (client.edit_order, client.preview_edit_order):
        unaffordable = call(order_id=order_id, size="500", price=str(limit))
        assert unaffordable.errors[0]["edit_failure_reason"] == "INSUFFICIENT_FUND"
    assert next(a for a in client.get_accounts().accounts if a.currency == "USD").hold["value"] == held
    new_limit = (limit * Decimal("0.99")).quantize(Decimal("0.01"))
    preview = client.preview_edit_order(order_id=order_id, size="8", price=str(new_limit))
    assert preview.errors == []
    edited = client.edit_order(order_id=order_id, size="8", price=str(new_limit))
    assert edited.success is True
    order = client.get_order(order_id).order
    config = order.order_configuration["limit_limit_gtc"]
    assert (Decimal(config["base_size"]), Decimal(config["limit_price"])) == (Decimal(8), new_limit)
    assert Decimal(order.filled_size) == filled
    usd = next(a for a in client.get_accounts().accounts if a.currency == "USD")
    assert Decimal(usd.hold["value"]) == (8 - filled) * new_limit * Decimal("1.006")
    assert client.cancel_orders(order_ids=[order_id]).results[0]["success"]
    order = client.get_order(order_id).order
    assert (order.status, Decimal(order.filled_size)) == ("CANCELLED", filled)
    usd = next(a for a in client.get_accounts().accounts if a.currency == "USD")
    assert Decimal(usd.hold["value"]) == 0
    refused = client.edit_order(order_id=order_id, size="9", price=str(new_limit))
    assert refused.errors[0]["edit_failure_reason"] == "ONLY_OPEN_ORDERS_CAN_BE_EDITED"
