"""The `gpttrader` command (also installed as `coinbase-trader`).

Exit status: 0 on success, 2 for a usage or configuration error (an unknown profile, a bad value), 1 for
a failure while doing the work.
"""

import argparse
import json
import sys
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from gpttrader import __version__
from gpttrader.app.container import ApplicationContainer
from gpttrader.backtest import run_backtest
from gpttrader.brokers.errors import BrokerError
from gpttrader.brokers.simulated import FeeSchedule, FillModel
from gpttrader.config import PROFILE_NAMES, ConfigError, load_config
from gpttrader.config.redaction import configure_logging
from gpttrader.domain import Order, OrderRejected, OrderRequest, OrderType, Side, TimeInForce
from gpttrader.marketdata import CandleFileError, load_candles
from gpttrader.marketdata.samples import SAMPLES, sample_file
from gpttrader.reports import write_html
from gpttrader.sandbox import SandboxSettings, generate_key_file
from gpttrader.sandbox.runner import serve_forever
from gpttrader.store import DATABASE_FILE, Event
from gpttrader.strategy import STRATEGIES, build_strategy

Command = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command: Command | None = getattr(args, "run", None)
    if command is None:
        parser.print_help()
        return 2
    try:
        return command(args)
    except ConfigError as exc:
        print(f"gpttrader: error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gpttrader", description="Research-to-live trading toolkit for Coinbase.")
    parser.add_argument("--version", action="version", version=f"gpttrader {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    config = commands.add_parser("config", help="show the resolved configuration")
    config_commands = config.add_subparsers(title="config commands", metavar="COMMAND")
    show = config_commands.add_parser("show", help="print a profile's resolved configuration, secrets redacted")
    _profile_option(show)
    show.add_argument("--format", choices=("yaml", "json"), default="yaml")
    show.set_defaults(run=_config_show)

    events = commands.add_parser("events", help="read the event store")
    event_commands = events.add_subparsers(title="events commands", metavar="COMMAND")
    tail = event_commands.add_parser("tail", help="print the latest events of a profile")
    _profile_option(tail)
    tail.add_argument("-n", "--lines", type=_positive_int, default=20, help="how many events (default 20)")
    tail.add_argument("--type", action="append", dest="types", metavar="TYPE", help="only events of this type")
    tail.add_argument("--json", action="store_true", help="one JSON object per line")
    tail.set_defaults(run=_events_tail)

    order = commands.add_parser("order", help="place, list and cancel orders through the Coinbase broker")
    order_commands = order.add_subparsers(title="order commands", metavar="COMMAND")
    place = order_commands.add_parser("place", help="place an order (written to the orders store first)")
    _profile_option(place)
    place.add_argument("--product", required=True, metavar="ID", help="product id, e.g. BTC-USD")
    place.add_argument("--side", required=True, type=str.upper, choices=[s.value for s in Side])
    place.add_argument("--size", required=True, type=_decimal_arg, help="size in base units")
    place.add_argument("--limit-price", type=_decimal_arg, help="a limit order at this price (else market)")
    place.add_argument(
        "--tif",
        type=str.upper,
        choices=[t.value for t in TimeInForce if t is not TimeInForce.GTD],
        help="time in force (default GTC for limit, IOC for market)",
    )
    place.add_argument("--post-only", action="store_true")
    place.set_defaults(run=_order_place)
    listing = order_commands.add_parser("list", help="orders in the orders store, refreshed from the venue")
    _profile_option(listing)
    listing.add_argument("--open", action="store_true", help="only orders not in a final state")
    listing.set_defaults(run=_order_list)
    cancel = order_commands.add_parser("cancel", help="cancel an order by its client order id")
    _profile_option(cancel)
    cancel.add_argument("client_order_id")
    cancel.set_defaults(run=_order_cancel)

    backtest = commands.add_parser("backtest", help="backtest a strategy and write an HTML report")
    backtest.add_argument("--strategy", required=True, help=f"one of {', '.join(STRATEGIES)}")
    backtest.add_argument(
        "--product",
        action="append",
        dest="products",
        required=True,
        metavar="ID",
        help="product to trade (repeat for a portfolio on one cash balance)",
    )
    backtest.add_argument(
        "--granularity", default="ONE_HOUR", help="candle width, e.g. FIFTEEN_MINUTE (default ONE_HOUR)"
    )
    backtest.add_argument("--start", type=_date, help="first day, YYYY-MM-DD (UTC)")
    backtest.add_argument("--end", type=_date, help="day after the last, YYYY-MM-DD (UTC)")
    backtest.add_argument("--source", default="sample", help="sample (default), cache, or a parquet/CSV path")
    backtest.add_argument(
        "--param",
        action="append",
        default=[],
        type=_key_value,
        metavar="NAME=VALUE",
        help="strategy parameter, e.g. fast=10 (repeatable)",
    )
    backtest.add_argument("--fee", type=Decimal, default=Decimal("0.006"), help="fee per side (default 0.006)")
    backtest.add_argument("--slippage-bps", type=Decimal, default=Decimal(0))
    backtest.add_argument("--cash", type=_decimal_arg, default=Decimal(1_000_000), help="starting cash")
    backtest.add_argument("--out", type=Path, help="HTML report path (default data/reports/...)")
    backtest.set_defaults(run=_backtest)

    sandbox = commands.add_parser("sandbox", help="serve a local Coinbase-compatible exchange")
    sandbox.add_argument("--port", type=_port, default=8443, help="port to listen on (default 8443; 0 picks one)")
    sandbox.add_argument(
        "--tls",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="serve https with a self-signed certificate (default; the SDK speaks https only)",
    )
    sandbox.add_argument(
        "--key-file",
        action="append",
        type=Path,
        dest="key_files",
        metavar="PATH",
        help="trust this CDP key file (default: data/state/sandbox/key.json, made if missing)",
    )
    sandbox.add_argument(
        "--derivatives", action="store_true", help="serve INTX perpetuals (also COINBASE_ENABLE_DERIVATIVES=1)"
    )
    sandbox.add_argument("--speed", type=float, default=1.0, help="minutes of price path per wall minute")
    sandbox.add_argument("--seed", type=int, default=7, help="seed of the synthetic price paths")
    sandbox.add_argument(
        "--candles",
        action="append",
        type=_candle_source,
        default=[],
        metavar="PRODUCT=PATH",
        help="replay this parquet/CSV file for a spot product (default: the shipped samples "
        "in data/sample for BTC, ETH and SOL; a seeded synthetic path for the others)",
    )
    sandbox.set_defaults(run=_sandbox_serve)
    sandbox_commands = sandbox.add_subparsers(title="sandbox commands", metavar="COMMAND")
    keys = sandbox_commands.add_parser("keys", help="write a new CDP-style key file (mode 0600)")
    keys.add_argument("--out", type=Path, required=True, help="where to write the key file")
    keys.add_argument("--algorithm", choices=("ES256", "EdDSA"), default="ES256")
    keys.set_defaults(run=_sandbox_keys)
    return parser


def _profile_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        metavar="NAME",
        help=f"one of {', '.join(PROFILE_NAMES)} (default: $GPTTRADER_PROFILE, paper if PERPS_PAPER=1, else dev)",
    )


def _decimal_arg(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a decimal number") from None
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be a positive number")
    return value


def _candle_source(text: str) -> tuple[str, Path]:
    product_id, sep, path = text.partition("=")
    if not sep or not product_id or not path:
        raise argparse.ArgumentTypeError(f"{text!r} is not PRODUCT=PATH, e.g. BTC-USD=btc.parquet")
    return product_id.upper(), Path(path)


def _date(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-01-31") from None


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    return key, value


def _port(text: str) -> int:
    value = int(text) if text.isdigit() else -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0-65535)")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _config_show(args: argparse.Namespace) -> int:
    config = load_config(args.profile)
    configure_logging(config.log_level)
    shown = config.to_display_dict()
    if args.format == "json":
        print(json.dumps(shown, indent=2))
    else:
        print(yaml.safe_dump(shown, sort_keys=False), end="")
    return 0


def _events_tail(args: argparse.Namespace) -> int:
    config = load_config(args.profile)
    configure_logging(config.log_level)
    if not (config.state_dir / DATABASE_FILE).exists():
        print(f"no events yet: {config.state_dir / DATABASE_FILE} does not exist", file=sys.stderr)
        return 0
    with ApplicationContainer(config) as container:
        events = container.event_store.tail(args.lines, types=args.types)
    for event in events:
        print(_format_event(event, as_json=args.json))
    return 0


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
    request = OrderRequest(
        client_order_id=f"cli-{uuid.uuid4()}",
        product_id=args.product,
        side=Side(args.side),
        order_type=OrderType.LIMIT if args.limit_price is not None else OrderType.MARKET,
        size=args.size,
        limit_price=args.limit_price,
        time_in_force=TimeInForce(args.tif) if args.tif else None,
        post_only=args.post_only,
    )
    with _order_container(args) as container:
        try:
            order = container.order_executor.submit(request)
        except (BrokerError, OrderRejected) as exc:
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


def _backtest(args: argparse.Namespace) -> int:
    config = load_config(None)
    configure_logging("WARNING")
    try:
        strategy = build_strategy(args.strategy, dict(args.param))
        fill_model = FillModel(fees=FeeSchedule(maker=args.fee, taker=args.fee), slippage_bps=args.slippage_bps)
        candles = {
            product: load_candles(
                product, args.granularity, source=args.source, start=args.start, end=args.end, data_dir=config.data_dir
            )
            for product in args.products
        }
        result = run_backtest(strategy, candles, initial_cash=args.cash, fill_model=fill_model)
    except (ValueError, CandleFileError) as exc:
        print(f"gpttrader: error: {exc}", file=sys.stderr)
        return 2
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or config.data_dir / "reports" / f"{args.strategy}_{'_'.join(args.products)}_{stamp}.html"
    title = f"{args.strategy} on {', '.join(args.products)} ({args.granularity})"
    write_html(result, candles, out, title=title)
    width = max(len(name) for name in result.metrics)
    for name, value in result.metrics.items():
        print(f"{name:<{width}}  {value:.6g}")
    print(f"report: {out}")
    return 0


def _sandbox_serve(args: argparse.Namespace) -> int:
    config = load_config(None)
    configure_logging(config.log_level)
    state_dir = config.data_dir / "state" / "sandbox"
    key_files = tuple(args.key_files or ())
    if not key_files:
        default_key = state_dir / "key.json"
        if not default_key.exists():
            generate_key_file(default_key)
        key_files = (default_key,)
    for path in key_files:
        print(f"trusting key file {path} (use it with COINBASE_KEY_FILE={path})", flush=True)
    candle_files = {product_id: sample_file(config.data_dir / "sample", product_id) for product_id in SAMPLES}
    candle_files = {product_id: path for product_id, path in candle_files.items() if path.is_file()}
    candle_files.update(dict(args.candles))
    for product_id, path in sorted(candle_files.items()):
        print(f"replaying {path} for {product_id}", flush=True)
    settings = SandboxSettings(
        candle_files=candle_files,
        state_dir=state_dir,
        key_files=key_files,
        port=args.port,
        tls=args.tls,
        derivatives_enabled=args.derivatives or config.derivatives_enabled,
        speed=args.speed,
        seed=args.seed,
    )
    try:
        serve_forever(settings)
    except CandleFileError as exc:
        print(f"gpttrader: error: {exc}", file=sys.stderr)
        return 2
    return 0


def _sandbox_keys(args: argparse.Namespace) -> int:
    if args.out.exists():
        print(f"gpttrader: error: {args.out} exists; refusing to overwrite a key", file=sys.stderr)
        return 2
    key = generate_key_file(args.out, args.algorithm)
    print(f"wrote {args.algorithm} key {key.name} to {args.out} (mode 600)")
    return 0


def _format_event(event: Event, *, as_json: bool) -> str:
    if as_json:
        return json.dumps(
            {
                "id": event.id,
                "time": event.time.isoformat(),
                "type": event.type,
                "run_id": event.run_id,
                "payload": event.payload,
            }
        )
    run = f" run={event.run_id}" if event.run_id else ""
    return f"{event.time.isoformat()} #{event.id} {event.type}{run} {json.dumps(event.payload, sort_keys=True)}"


if __name__ == "__main__":
    sys.exit(main())
