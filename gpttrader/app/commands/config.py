"""`gpttrader config show`: a profile's resolved configuration, secrets redacted; `gpttrader config reload`:
a running bot of the profile re-reads it (engine.reload)."""

import argparse
import getpass
import json
import time

import yaml

from gpttrader.app.arguments import profile_option
from gpttrader.app.container import ApplicationContainer
from gpttrader.config import ConfigError, load_config
from gpttrader.config.redaction import configure_logging
from gpttrader.domain.events import EventType


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    config = commands.add_parser("config", help="show the resolved configuration")
    config_commands = config.add_subparsers(title="config commands", metavar="COMMAND")
    show = config_commands.add_parser("show", help="print a profile's resolved configuration, secrets redacted")
    profile_option(show)
    show.add_argument("--format", choices=("yaml", "json"), default="yaml")
    show.set_defaults(run=_config_show)
    reload = config_commands.add_parser(
        "reload",
        help="make a running bot re-read its profile: tightening applies at once, loosening needs --reason",
    )
    profile_option(reload)
    reload.add_argument("--reason", help="why (needed for a change that loosens a protection); recorded")
    reload.add_argument("--operator", default=getpass.getuser(), help="who (default: the login name)")
    reload.add_argument(
        "--wait", type=float, default=30.0, help="seconds to wait for the bot's answer (default 30; 0: do not wait)"
    )
    reload.set_defaults(run=_config_reload)


def _config_show(args: argparse.Namespace) -> int:
    config = load_config(args.profile)
    configure_logging(config.log_level)
    shown = config.to_display_dict()
    if args.format == "json":
        print(json.dumps(shown, indent=2))
    else:
        print(yaml.safe_dump(shown, sort_keys=False), end="")
    return 0


def _config_reload(args: argparse.Namespace) -> int:
    """Exit 0 when the running bot took the profile, 2 when the profile does not load or the bot refused it
    (saying why), 3 when no bot answered within --wait (the request stands for the next one that looks)."""
    config = load_config(args.profile)  # a file that does not load is refused here, and nothing is asked
    configure_logging(config.log_level)
    if args.reason is not None and not args.reason.strip():
        raise ConfigError("--reason is blank: say why the change is made (it is recorded)")
    with ApplicationContainer(config) as container:
        events = container.event_store
        request = events.append(
            EventType.CONFIG_RELOAD_REQUESTED, {"operator": args.operator, "reason": args.reason}
        ).id
        deadline = time.monotonic() + args.wait
        while True:
            answer = next(
                (
                    e
                    for e in events.read(
                        after_id=request, types=[EventType.CONFIG_RELOADED, EventType.CONFIG_RELOAD_REFUSED]
                    )
                    if e.payload["request"] == request
                ),
                None,
            )
            if answer is not None or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
    if answer is None:
        print(f"profile {config.profile}: no running bot answered within {args.wait:g} s; the request is recorded")
        return 3
    applied = answer.type is EventType.CONFIG_RELOADED
    version = f" (configuration version {answer.payload['version']})" if applied else ""
    print(f"profile {config.profile}: {'applied' if applied else 'refused'}{version}: {answer.payload['message']}")
    return 0 if applied else 2
