"""`gpttrader order place|list|cancel` through the Coinbase broker, each order stored before it is sent."""

import argparse
import sys
import uuid

from gpttrader.app.arguments import MAX_AMOUNT, amount, product_id, profile_option
from gpttrader.app.container import ApplicationContainer
from gpttrader.brokers.errors import BrokerError
from gpttrader.config import ConfigError, load_config
from gpttrader.config.redaction import configure_logging
from gpttrader.domain import Order, OrderRejected, OrderRequest, OrderType, Side, TimeInForce
from gpttrader.engine.listing import listed_products


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    order = commands.add_parser("order", help="place, list and cancel orders through the Coinbase broker")
    order_commands = order.add_subparsers(title="order commands", metavar="COMMAND")
    place = order_commands.add_parser("place", help="place an order (written to the orders store first)")
    profile_option(place)
    place.add_argument(
        "--product", required=True, type=product_id, metavar="ID", help="product id, e.g. BTC-USD (or btc-usd, BTCUSD)"
    )
    place.add_argument("--side", required=True, type=str.upper, choices=[s.value for s in Side])
    place.add_argument("--size", required=True, type=amount, help=f"size in base units, at most {MAX_AMOUNT}")
    place.add_argument(
        "--limit-price", type=amount, help=f"a limit order at this price, at most {MAX_AMOUNT} (else market)"
    )
    place.add_argument(
        "--tif",
        type=str.upper,
        choices=[t.value for t in TimeInForce if t is not TimeInForce.GTD],
        help="time in force (default GTC for limit, IOC for market)",
    )
    place.add_argument("--post-only", action="store_true")
    place.set_defaults(run=_order_place)
    listing = order_commands.add_parser("list", help="orders in the orders store, refreshed from the venue")
    profile_option(listing)
    listing.add_argument("--open", action="store_true", help="only orders not in a final state")
    listing.set_defaults(run=_order_list)
    cancel = order_commands.add_parser("cancel", help="cancel an order by its client order id")
    profile_option(cancel)
    cancel.add_argument("client_order_id")
    cancel.set_defaults(run=_order_cancel)


def _order_container(args: argparse.Namespace) -> ApplicationContainer:
    config = load_config(args.profile)
    configure_logging(config.log_level)
    if config.broker != "coinbase":
        raise ConfigError(
            f"profile {config.profile} trades through the {config.broker} broker; order commands "
            "need a Coinbase profile (canary, prod, or dev with SPOT_FORCE_LIVE=1)"
        )
    if config.coinbase.sandbox_url is None:
        # Real orders from the command line wait for preflight and the live opt-in (the live runtime).
        raise ConfigError(
            "order commands run against a sandbox exchange only: set COINBASE_SANDBOX_URL "
            "(and COINBASE_SANDBOX_CERT) from `gpttrader sandbox`"
        )
    return ApplicationContainer(config)


def _print_order(order: Order) -> None:
    price = order.request.limit_price or "market"
    average = order.average_filled_price or "-"
    print(
        f"{order.client_order_id} {order.status.value:<16} {order.side.value:<4} {order.request.size} "
        f"{order.product_id} @ {price} filled {order.filled_size} avg {average} fees {order.fees} "
        f"order_id={order.order_id or '-'}"
    )


def _order_place(args: argparse.Namespace) -> int:
    with _order_container(args) as container:
        listed_products(container.coinbase_broker, [args.product], field="--product")  # unlisted: nearest named
        request = OrderRequest(
            # The profile's prefix: its bot knows the order as its own, and no other bot builds the same id.
            client_order_id=container.config.client_ids.manual(str(uuid.uuid4())),
            product_id=args.product,
            side=Side(args.side),
            order_type=OrderType.LIMIT if args.limit_price is not None else OrderType.MARKET,
            size=args.size,
            limit_price=args.limit_price,
            time_in_force=TimeInForce(args.tif) if args.tif else None,
            post_only=args.post_only,
        )
        try:
            order = container.order_executor.submit(request)
        except (BrokerError, OrderRejected) as exc:
            stored = container.orders_store.get(request.client_order_id)
            if stored is not None and stored.status.is_unresolved:
                print(
                    f"gpttrader: order {request.client_order_id} was sent without a definite answer ({exc}); the "
                    "exchange may hold it: look before placing another (gpttrader order list)",
                    file=sys.stderr,
                )
            else:
                print(f"gpttrader: order {request.client_order_id} not placed: {exc}", file=sys.stderr)
            return 1
        _print_order(order)
    return 0


def _order_list(args: argparse.Namespace) -> int:
    with _order_container(args) as container:
        for order in container.orders_store.open_orders() if args.open else container.orders_store.all_orders():
            if order.order_id is not None and not order.is_terminal:
                order = container.order_executor.refresh(order.client_order_id)
            _print_order(order)
    return 0


def _order_cancel(args: argparse.Namespace) -> int:
    with _order_container(args) as container:
        if container.orders_store.get(args.client_order_id) is None:
            print(
                f"gpttrader: error: no order {args.client_order_id} in the {container.config.profile} orders store",
                file=sys.stderr,
            )
            return 2
        _print_order(container.order_executor.cancel(args.client_order_id))
    return 0
