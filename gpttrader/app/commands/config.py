"""`gpttrader config show`: a profile's resolved configuration, secrets redacted."""

import argparse
import json

import yaml

from gpttrader.app.arguments import profile_option
from gpttrader.config import load_config
from gpttrader.config.redaction import configure_logging


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    config = commands.add_parser("config", help="show the resolved configuration")
    config_commands = config.add_subparsers(title="config commands", metavar="COMMAND")
    show = config_commands.add_parser("show", help="print a profile's resolved configuration, secrets redacted")
    profile_option(show)
    show.add_argument("--format", choices=("yaml", "json"), default="yaml")
    show.set_defaults(run=_config_show)


def _config_show(args: argparse.Namespace) -> int:
    config = load_config(args.profile)
    configure_logging(config.log_level)
    shown = config.to_display_dict()
    if args.format == "json":
        print(json.dumps(shown, indent=2))
    else:
        print(yaml.safe_dump(shown, sort_keys=False), end="")
    return 0
