"""`gpttrader risk show|set`: a profile's trading state, and the operator's way to change it.

The state moves toward safety by itself (a guard trips); moving it back to active is only ever this
explicit, recorded action, with who did it and why.
"""

import argparse
import getpass
import json
import sys

from gpttrader.app.arguments import profile_option
from gpttrader.app.container import ApplicationContainer
from gpttrader.config import load_config
from gpttrader.config.redaction import configure_logging
from gpttrader.risk import TradingState
from gpttrader.risk.manager import STATE_CHANGED

_STATES = [state.value for state in TradingState]


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    risk = commands.add_parser("risk", help="show or set a profile's trading state")
    risk_commands = risk.add_subparsers(title="risk commands", metavar="COMMAND")
    show = risk_commands.add_parser("show", help="the trading state, its last change and the guards")
    profile_option(show)
    show.set_defaults(run=_show)
    change = risk_commands.add_parser("set", help="set the trading state (an operator action, recorded)")
    change.add_argument("state", choices=_STATES, help="the state to enter")
    profile_option(change)
    change.add_argument("--reason", required=True, help="why; kept in the event store")
    change.add_argument("--operator", default=getpass.getuser(), help="who (default: the login name)")
    change.set_defaults(run=_set)


def _show(args: argparse.Namespace) -> int:
    config = load_config(args.profile)
    configure_logging(config.log_level)
    with ApplicationContainer(config) as container:
        risk = container.risk_manager
        last = container.event_store.latest(STATE_CHANGED)
        print(f"profile {config.profile}: {risk.state.value}")
        if last is not None:
            print(f"last change: {json.dumps(last, sort_keys=True)}")
        for guard in risk.guards:
            rule = guard.rule
            print(f"  {guard.name:<24} {guard.metric} {rule.comparison} {rule.limit} -> {rule.action}")
    return 0


def _set(args: argparse.Namespace) -> int:
    config = load_config(args.profile)
    configure_logging(config.log_level)
    with ApplicationContainer(config) as container:
        risk = container.risk_manager
        before = risk.state
        try:
            risk.set_state(TradingState(args.state), operator=args.operator, reason=args.reason)
        except ValueError as exc:
            print(f"gpttrader: error: {exc}", file=sys.stderr)
            return 2
        print(f"profile {config.profile}: {before.value} -> {risk.state.value} (by {args.operator})")
    return 0
