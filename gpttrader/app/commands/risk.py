"""`gpttrader risk show|set`: a profile's trading state, and the operator's way to change it.

The state moves toward safety by itself (a guard trips); moving it back to active is only ever this
explicit, recorded action, with who did it and why.
"""

import argparse
import getpass
import json
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gpttrader.app.arguments import profile_option
from gpttrader.app.container import ApplicationContainer
from gpttrader.app.intx_cutover import moved_perpetuals, today
from gpttrader.config import load_config
from gpttrader.config.redaction import configure_logging
from gpttrader.domain.events import EventType
from gpttrader.risk import TradingState
from gpttrader.store import Event, EventStore

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
        last = container.event_store.latest(EventType.RISK_STATE_CHANGED)
        print(f"profile {config.profile}: {risk.state.value}")
        moved = moved_perpetuals(config, today())
        if moved is not None:  # whatever the state says, `gpttrader run` refuses to start this profile
            print(f"not startable: {moved.detail}\n  fix: {moved.fix}")
        if last is not None:
            print(f"last change: {json.dumps(last, sort_keys=True)}")
        readings = last_readings(config.state_dir / "metrics.json")
        now = datetime.now(UTC)
        for guard in risk.guards:
            rule = guard.rule
            print(f"  {guard.name:<24} {guard.metric} {rule.comparison} {rule.limit} -> {rule.action}")
            for reading in readings.get(guard.name, []):
                print("    " + reading_line(reading, now))
        for line in sizing_lines(container.event_store, config.sizing.method):
            print(line)
    return 0


def last_readings(metrics: Path) -> dict[str, list[dict[str, Any]]]:
    """The running (or last) bot's guard readings from its metrics.json, by guard; none when it never ran."""
    if not metrics.exists():
        return {}
    readings: dict[str, list[dict[str, Any]]] = {}
    for row in json.loads(metrics.read_text()).get("guards", []):
        readings.setdefault(row["guard"], []).append(row)
    return readings


def reading_line(reading: Mapping[str, Any], now: datetime) -> str:
    where = f" ({reading['scope']})" if reading["scope"] else ""
    if reading["value"] is None or reading["at"] is None:
        return f"last reading{where}: none yet"
    at = datetime.fromisoformat(reading["at"])
    age = (now - at).total_seconds()
    # A sandbox session reads on its virtual clock, which may run ahead of this one: its time, not an age.
    when = f"{age:.0f} s ago" if age >= 0 else f"at {at.isoformat(timespec='seconds')} (the session's clock)"
    return f"last reading{where}: {reading['value']:.4g} ({reading['level']}), {when}"


def sizing_lines(events: EventStore, method: str) -> list[str]:
    """What sizing reads besides the order: the account's fee rates, each strategy's edge estimate on each
    product and each product's market regime, as the bot last recorded them."""
    edges: dict[tuple[str, str], Event] = {}
    regimes: dict[str, Event] = {}
    for event in events.read(types=[EventType.RISK_EDGE_ESTIMATE, EventType.RISK_REGIME]):
        if event.type is EventType.RISK_EDGE_ESTIMATE:
            edges[(event.payload["strategy"], event.payload["product_id"])] = event
        else:
            regimes[event.payload["product_id"]] = event
    tier = events.latest(EventType.ACCOUNT_FEE_TIER)
    lines = [
        f"sizing {method}: fee rates "
        + ("not read yet" if tier is None else f"{tier['tier']}: maker {tier['maker']}, taker {tier['taker']}"),
        "edge estimates (round trips, shrunk toward no edge)",
    ]
    for (strategy, pid), event in sorted(edges.items()):
        p = event.payload
        lines.append(
            f"  {strategy:<12} {pid:<10} {p['trades']:>4} trades  win rate {p['win_rate']}  avg win {p['avg_win']}"
            f"  avg loss {p['avg_loss']}  kelly {p['kelly']}  ({event.time:%Y-%m-%d %H:%M})"
        )
    if not edges:
        lines.append("  none recorded yet")
    lines.append("market regimes")
    lines += [
        f"  {pid:<10} {event.payload['regime']:<18} since {event.time:%Y-%m-%d %H:%M}"
        for pid, event in sorted(regimes.items())
    ]
    if not regimes:
        lines.append("  none recorded yet")
    return lines


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
    moved = moved_perpetuals(config, today())
    if moved is not None and risk.state is not TradingState.HALTED:
        print(f"but the profile does not start: {moved.detail}\n  fix: {moved.fix}", file=sys.stderr)
    return 0
