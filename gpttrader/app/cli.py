"""The `gpttrader` command (also installed as `coinbase-trader`).

Exit status: 0 on success, 2 for a usage or configuration error (an unknown profile, a bad value), 1 for
a failure while doing the work.
"""

import argparse
import json
import sys
from collections.abc import Callable, Sequence

import yaml

from gpttrader import __version__
from gpttrader.app.container import ApplicationContainer
from gpttrader.config import PROFILE_NAMES, ConfigError, load_config
from gpttrader.config.redaction import configure_logging
from gpttrader.store import DATABASE_FILE, Event

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
    return parser


def _profile_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        metavar="NAME",
        help=f"one of {', '.join(PROFILE_NAMES)} (default: $GPTTRADER_PROFILE, paper if PERPS_PAPER=1, else dev)",
    )


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
