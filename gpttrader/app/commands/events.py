"""`gpttrader events tail`: the latest events of a profile's event store."""

import argparse
import json
import sys

from gpttrader.app.arguments import positive_int, profile_option
from gpttrader.app.container import ApplicationContainer
from gpttrader.config import load_config
from gpttrader.config.redaction import configure_logging
from gpttrader.domain.events import EventType
from gpttrader.store import DATABASE_FILE, Event
from gpttrader.store.integrity import known_stores


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    events = commands.add_parser("events", help="read the event store")
    event_commands = events.add_subparsers(title="events commands", metavar="COMMAND")
    tail = event_commands.add_parser("tail", help="print the latest events of a profile")
    profile_option(tail)
    tail.add_argument("-n", "--lines", type=positive_int, default=20, help="how many events (default 20)")
    tail.add_argument(
        "--type", action="append", dest="types", type=_event_type, metavar="TYPE", help="only events of this type"
    )
    tail.add_argument("--json", action="store_true", help="one JSON object per line")
    tail.set_defaults(run=_events_tail)


def _event_type(text: str) -> EventType:
    """A type of the catalogue: a misspelt one is refused with the list, rather than matching nothing."""
    try:
        return EventType(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an event type; the types are {', '.join(sorted(EventType))}"
        ) from None


def _events_tail(args: argparse.Namespace) -> int:
    config = load_config(args.profile)
    configure_logging(config.log_level)
    if DATABASE_FILE not in known_stores(config.state_dir):  # a store that was lost is refused below, not empty
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
