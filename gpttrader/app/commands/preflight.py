"""`gpttrader preflight`: what must hold before a live profile may trade, each check with its fix."""

import argparse

from gpttrader.app.arguments import profile_option
from gpttrader.app.container import ApplicationContainer
from gpttrader.app.preflight import run_preflight
from gpttrader.config import load_config
from gpttrader.config.redaction import configure_logging


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    preflight = commands.add_parser("preflight", help="check a live profile before it trades")
    profile_option(preflight)
    preflight.set_defaults(run=_preflight)


def _preflight(args: argparse.Namespace) -> int:
    config = load_config(args.profile)
    configure_logging(config.log_level)
    with ApplicationContainer(config) as container:
        results = run_preflight(container)
    for result in results:
        print(result.line())
    passed = all(r.passed for r in results)
    print("preflight passed" if passed else "preflight failed")
    return 0 if passed else 1
