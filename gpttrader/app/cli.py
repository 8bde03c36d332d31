"""The `gpttrader` command (also installed as `coinbase-trader`).

Each command group lives in its own module under `app.commands`, and only the group a command line names
is imported: `gpttrader config show` does not load pandas, the sandbox or the Coinbase SDK.

Exit status: 0 on success, 2 for a usage or configuration error (an unknown profile, a bad value), 1 for
a failure while doing the work.
"""

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from gpttrader import __version__
from gpttrader.config import ConfigError
from gpttrader.config.redaction import redact
from gpttrader.store.refusals import StateRefusedError

Command = Callable[[argparse.Namespace], int]
GROUPS = {
    "config": "gpttrader.app.commands.config",
    "events": "gpttrader.app.commands.events",
    "order": "gpttrader.app.commands.orders",
    "backtest": "gpttrader.app.commands.backtest",
    "risk": "gpttrader.app.commands.risk",
    "run": "gpttrader.app.commands.run",
    "kill": "gpttrader.app.commands.run",
    "preflight": "gpttrader.app.commands.preflight",
    "notebook": "gpttrader.app.commands.notebook",
    "schedule": "gpttrader.app.commands.schedule",
    "sandbox": "gpttrader.app.commands.sandbox",
    "store": "gpttrader.app.commands.store",
    "books": "gpttrader.app.commands.books",
    "data": "gpttrader.app.commands.data",
}


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    named = next((a for a in arguments if not a.startswith("-")), None)
    parser = _parser(named if named in GROUPS else None)
    args = parser.parse_args(arguments)
    command: Command | None = getattr(args, "run", None)
    if command is None:
        parser.print_help()
        return 2
    try:
        return command(args)
    except (ConfigError, StateRefusedError) as exc:
        print(f"gpttrader: error: {redact(str(exc))}", file=sys.stderr)  # a value echoed back may be a secret
        return 2


class _Parser(argparse.ArgumentParser):
    """Usage errors in the same one-line form as every other error; the command's --help has the usage.
    Subcommand parsers are made of the same class (argparse makes them of its parent's type)."""

    def error(self, message: str) -> NoReturn:
        # An argument the terminal could not decode arrives as a lone surrogate, which stderr cannot print:
        # echoed escaped, so the usage error is still the answer (and not an encoding crash).
        shown = message.encode("utf-8", "backslashreplace").decode("utf-8")
        self.exit(2, f"gpttrader: error: {shown} (see {self.prog} --help)\n")


def _parser(only: str | None) -> argparse.ArgumentParser:
    parser = _Parser(prog="gpttrader", description="Research-to-live trading toolkit for Coinbase.")
    parser.add_argument("--version", action="version", version=f"gpttrader {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    modules = [GROUPS[only]] if only is not None else list(dict.fromkeys(GROUPS.values()))
    for module in modules:  # a module may register several commands (run and kill)
        importlib.import_module(module).register(commands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
