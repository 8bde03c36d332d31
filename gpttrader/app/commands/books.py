"""`gpttrader books accept`: the operator's word that a spot account, as it holds now, is right.

Reconciliation expects each spot currency to be held as the books explain it: the baseline (what the
account held outside the bot's books) plus the bot's position from its fills, and halts trading on a
difference either way. After a review (coins moved in or out by a person, another bot, a transfer),
`accept` records a new baseline from what the account holds now, with who accepted it and why; the next
reconciliation compares against it. Trading stays halted until the operator resumes it (`risk set`).
"""

import argparse
import getpass

from gpttrader.app.arguments import profile_option
from gpttrader.app.container import ApplicationContainer
from gpttrader.config import load_config
from gpttrader.config.redaction import configure_logging


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    books = commands.add_parser("books", help="the bot's books against the account")
    books_commands = books.add_subparsers(title="books commands", metavar="COMMAND")
    accept = books_commands.add_parser(
        "accept", help="take the spot account as it holds now as the baseline of reconciliation (recorded)"
    )
    profile_option(accept)
    accept.add_argument("--operator", default=getpass.getuser(), help="who (default: the login name)")
    accept.add_argument("--reason", default="reviewed", help="why; kept in the event store")
    accept.set_defaults(run=_accept)


def _accept(args: argparse.Namespace) -> int:
    config = load_config(args.profile)
    configure_logging(config.log_level)
    with ApplicationContainer(config) as container:
        figures = container.create_bot().accept_books(operator=args.operator, reason=args.reason)
    print(f"profile {config.profile}: books accepted by {args.operator}")
    for currency, (held, mine, outside) in figures.items():
        print(f"  {currency}: the account holds {held}, the bot's fills {mine}, outside the bot's books {outside}")
    print(f'trading stays as it is; to resume: gpttrader risk set active --profile {config.profile} --reason "..."')
    return 0
