"""`gpttrader store check|backup|adopt`: a profile's stores, checked, backed up, or replaced on purpose.

`adopt` is the one way to start over after a store was lost or damaged (short of restoring a backup), and
the way a new store takes on an account that already has open orders or positions: the operator says so,
and the new store records what the exchange held at that moment (event `store.adopted`), with the open
orders taken into the orders store so that reconciliation tracks them instead of cancelling them.
"""

import argparse
import getpass
import sys

from gpttrader.app.arguments import profile_option
from gpttrader.app.container import ApplicationContainer
from gpttrader.app.profile_lock import hold_profile
from gpttrader.config import load_config
from gpttrader.config.redaction import configure_logging
from gpttrader.domain.events import EventType
from gpttrader.store.backup import back_up
from gpttrader.store.integrity import diagnose, has_met_the_account, known_stores, refusal, set_aside


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    store = commands.add_parser("store", help="check, back up or replace a profile's stores")
    store_commands = store.add_subparsers(title="store commands", metavar="COMMAND")
    check = store_commands.add_parser("check", help="check every store of a profile (exit 2 if one is damaged)")
    profile_option(check)
    check.set_defaults(run=_check)
    backup = store_commands.add_parser("backup", help="back up every store of a profile now (safe while it runs)")
    profile_option(backup)
    backup.set_defaults(run=_backup)
    adopt = store_commands.add_parser(
        "adopt", help="adopt the exchange's current state into a new store (damaged ones are set aside); recorded"
    )
    profile_option(adopt)
    adopt.add_argument("--reason", required=True, help="why; kept in the new store")
    adopt.add_argument("--operator", default=getpass.getuser(), help="who (default: the login name)")
    adopt.set_defaults(run=_adopt)


def _check(args: argparse.Namespace) -> int:
    config = load_config(args.profile)
    state_dir = config.state_dir
    names = known_stores(state_dir)
    damaged = 0
    for name in names:
        problem = diagnose(state_dir, name)
        if problem is None:
            print(f"{state_dir / name}: ok")
        else:
            damaged += 1
            print(refusal(state_dir, name, problem), file=sys.stderr)
    if not names:
        print(f"profile {config.profile} has no stores yet (in {state_dir})")
    return 2 if damaged else 0


def _backup(args: argparse.Namespace) -> int:
    config = load_config(args.profile)
    configure_logging(config.log_level)
    with ApplicationContainer(config) as container:
        stores = container.stores()
        for database in stores:
            print(f"{database.path} -> {back_up(database.path)}")
    if not stores:
        print(f"profile {config.profile} has no stores yet (in {config.state_dir})")
    return 0


def _adopt(args: argparse.Namespace) -> int:
    config = load_config(args.profile)
    configure_logging(config.log_level)
    state_dir = config.state_dir
    lock = hold_profile(state_dir, "gpttrader store adopt")  # never under a running bot
    try:
        damaged = [name for name in known_stores(state_dir) if diagnose(state_dir, name) is not None]
        kept = {name: set_aside(state_dir, name) for name in damaged}
        with ApplicationContainer(config) as container:
            events = container.event_store
            if not damaged and has_met_the_account(events):
                print(
                    f"gpttrader: error: the stores of profile {config.profile} are sound and already know the "
                    "exchange account: nothing to adopt",
                    file=sys.stderr,
                )
                return 2
            broker = container.broker
            venue_orders = [o for pid in config.symbols for o in broker.list_orders(pid, open_only=True)]
            adopted = [
                container.order_executor.adopt(order).client_order_id
                for order in venue_orders
                if container.orders_store.get(order.client_order_id) is None
            ]
            positions = {p.product_id: p.size for p in broker.positions() if p.size}
            balances = {b.currency: b.total for b in broker.balances() if b.total}
            events.append(
                EventType.STORE_ADOPTED,
                {
                    "operator": args.operator,
                    "reason": args.reason,
                    "replaced": {name: None if path is None else str(path) for name, path in kept.items()},
                    "orders": adopted,
                    "positions": positions,
                    "balances": balances,
                },
            )
    finally:
        lock.release()
    for name, path in kept.items():
        print(
            f"{state_dir / name}: replaced by a new store" + (f" (the damaged one is kept as {path})" if path else "")
        )
    print(f"profile {config.profile}: adopted by {args.operator}")
    print(f"  open orders: {', '.join(adopted) or 'none'}")
    print(f"  positions: {', '.join(f'{pid} {size}' for pid, size in positions.items()) or 'none'}")
    return 0
