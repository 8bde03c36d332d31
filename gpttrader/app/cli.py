"""The `gpttrader` command (also installed as `coinbase-trader`).

Exit status: 0 on success, 2 for a usage or configuration error (an unknown profile, a bad value), 1 for
a failure while doing the work.
"""

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

from gpttrader import __version__
from gpttrader.app.container import ApplicationContainer
from gpttrader.config import PROFILE_NAMES, ConfigError, load_config
from gpttrader.config.redaction import configure_logging
from gpttrader.sandbox import SandboxSettings, generate_key_file
from gpttrader.sandbox.runner import serve_forever
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
    settings = SandboxSettings(
        state_dir=state_dir,
        key_files=key_files,
        port=args.port,
        tls=args.tls,
        derivatives_enabled=args.derivatives or config.derivatives_enabled,
        speed=args.speed,
        seed=args.seed,
    )
    serve_forever(settings)
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
