"""`gpttrader run` and `gpttrader kill`: the trading bot of a profile, and its kill switch.

What runs is the session registry's (gpttrader.app.launch): `--mode` picks among the profile's modes (paper:
`sandbox`, a local sandbox exchange on a virtual clock, the default; `coinbase`, Coinbase's public data or
the exchange at COINBASE_SANDBOX_URL). A simulated clock runs at `--pace` wall seconds a cycle (0: as fast
as it goes); without it, in real time. `run --profile dev --dev-fast` runs the dev bot flat out for a bounded
number of cycles and exits 0 with a summary (the smoke test). Otherwise the bot runs until `--cycles`, or
SIGINT or SIGTERM, which stop the loop after the cycle in progress. A live profile (canary, prod) starts
only with credentials, a passing preflight and the opt-in (`--live` or GPTTRADER_LIVE=1), and not at all
with an INTX perpetual after INTX order entry left Advanced Trade (gpttrader.app.intx_cutover).
"""

import argparse
import getpass
import signal
import sys

from gpttrader.app.arguments import granularity, non_negative_float, port, positive_int, profile_option
from gpttrader.app.container import ApplicationContainer
from gpttrader.app.intx_cutover import moved_perpetuals, today
from gpttrader.app.launch import MODES, SIMULATED, check_choice, launch
from gpttrader.app.preflight import live_gate
from gpttrader.brokers.errors import BrokerError
from gpttrader.config import ConfigError, load_config
from gpttrader.config.redaction import configure_logging

DEV_FAST_CYCLES = 30
KILL_INCOMPLETE = 3  # halted, but the exchange still shows (or could not show) orders or positions


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    run = commands.add_parser("run", help="run the trading bot of a profile")
    profile_option(run)
    run.add_argument("--dev-fast", action="store_true", help="dev only: a fast clock, bounded cycles, then exit")
    run.add_argument("--cycles", type=positive_int, help=f"stop after this many cycles (--dev-fast: {DEV_FAST_CYCLES})")
    run.add_argument(
        "--mode",
        help="paper: sandbox (a local exchange on a virtual clock, the default) or coinbase (Coinbase's public "
        "data, or COINBASE_SANDBOX_URL's exchange); dev: deterministic; canary, prod: live",
    )
    run.add_argument(
        "--pace",
        type=non_negative_float,
        metavar="SECONDS",
        help="a simulated clock's wall seconds a cycle (0: as fast as it goes; default: real time)",
    )
    run.add_argument(
        "--granularity",
        type=granularity,
        help="the strategy's bar size, e.g. ONE_HOUR (default: the profile's strategy.granularity)",
    )
    run.add_argument("--live", action="store_true", help="opt in to trading real money (canary, prod)")
    run.add_argument("--metrics-port", type=port, metavar="N", help="serve Prometheus metrics on 127.0.0.1:N")
    run.set_defaults(run=_run)
    kill = commands.add_parser("kill", help="kill switch: cancel open orders, flatten, halt (recorded)")
    profile_option(kill)
    kill.add_argument("--reason", default="kill switch from the command line", help="kept in the event store")
    kill.add_argument("--operator", default=getpass.getuser(), help="who (default: the login name)")
    kill.add_argument("--no-flatten", action="store_true", help="cancel and halt, but keep the positions")
    kill.add_argument(
        "--deadline",
        type=positive_int,
        metavar="SECONDS",
        help="keep retrying cancels and flattens this long (default: the profile's execution.kill_deadline_seconds)",
    )
    kill.set_defaults(run=_kill)


def _run(args: argparse.Namespace) -> int:
    overrides = {} if args.granularity is None else {"strategy": {"granularity": args.granularity}}
    config = load_config(args.profile, overrides=overrides)
    configure_logging(config.log_level)
    if args.dev_fast and config.broker != "deterministic":
        raise ConfigError(
            f"--dev-fast runs the deterministic broker only; profile {config.profile} uses {config.broker}"
        )
    mode = args.mode or MODES[config.profile][0]
    try:
        check_choice(config.profile, mode)
    except ValueError as exc:
        raise ConfigError(f"--mode: {exc}") from None
    if args.pace is not None and (config.profile, mode) not in SIMULATED:
        raise ConfigError(f"--pace: {config.profile} {mode} runs on the wall clock; only a simulated clock is paced")
    moved = moved_perpetuals(config, today())
    if moved is not None:  # before anything starts or asks the exchange: no key or answer changes this
        raise ConfigError(f"{moved.detail}\n  fix: {moved.fix}")
    pace = 0.0 if args.dev_fast else args.pace
    cycles = args.cycles or (DEV_FAST_CYCLES if args.dev_fast else None)
    with launch(config.profile, mode, pace_seconds=pace, overrides=overrides) as session:
        container = session.container
        container.claim("gpttrader run")
        gate = live_gate(container, opted_in=args.live)
        if gate.refused:
            for line in gate.lines():
                print(line, file=sys.stderr)
            return 2
        monitor = server = None
        if args.metrics_port is not None:
            from gpttrader.monitoring import BotMetrics, serve_metrics

            monitor = BotMetrics()
            server = serve_metrics(monitor.registry, args.metrics_port)
            print(f"metrics: http://127.0.0.1:{server.port}/metrics", flush=True)
        bot = container.create_bot(monitor=monitor)
        try:
            report = bot.bootstrap()
        except BrokerError as exc:  # the exchange could not be read: start nothing on a guess
            if server is not None:
                server.stop()
            print(
                f"gpttrader: the bot did not start: {exc}\nnothing was traded and the store is as it was; "
                "run it again once the exchange answers",
                file=sys.stderr,
            )
            return 1
        if not report.ok:
            print("reconciliation failed, trading halted:", file=sys.stderr)
            for line in report.mismatches:
                print(f"  {line}", file=sys.stderr)
        for name in (signal.SIGINT, signal.SIGTERM):
            signal.signal(name, lambda *_: bot.stop())
        signal.signal(signal.SIGHUP, lambda *_: bot.request_reload())
        failed: Exception | None = None
        try:
            bot.run(max_cycles=cycles)
        except Exception as exc:  # execution.on_cycle_error is halt: nothing may hold positions unwatched
            failed = exc
            closed = bot.kill(operator="gpttrader run", reason=f"cycle error: {type(exc).__name__}: {exc}")
            print(f"gpttrader: the bot stopped on {type(exc).__name__}: {exc}", file=sys.stderr)
            print(
                f"  kill switch: cancelled {closed.cancelled or 'none'}, flattened {closed.flattened or 'none'}",
                file=sys.stderr,
            )
            for line in closed.left():
                print(f"  left: {line}", file=sys.stderr)
        finally:
            summary = bot.shutdown()
            if server is not None:
                server.stop()
        for line in summary.lines():
            print(line)
        print(f"metrics: {bot.metrics_path}")
    return 0 if report.ok and failed is None else 1


def _kill(args: argparse.Namespace) -> int:
    """Exit 0 when the exchange shows no open order and no position of the bot; KILL_INCOMPLETE when it could
    not be made to (or not be read), listing what is left. The halt is recorded either way, first."""
    from gpttrader.engine.kill import engage_kill_switch

    config = load_config(args.profile)
    configure_logging(config.log_level)
    deadline = args.deadline or config.execution.kill_deadline_seconds
    with ApplicationContainer(config) as container:
        # The halt is recorded before anything else is built or asked: the bot (its broker) only after it,
        # so that a kill switch works even when the exchange, or the key, does not.
        report = engage_kill_switch(
            lambda: container.create_bot().prepared_execution(),
            container.risk_manager,
            container.event_store,
            ids=config.client_ids,
            operator=args.operator,
            reason=args.reason,
            flatten=not args.no_flatten,
            deadline_seconds=deadline,
            exclusive=container.kill_lock,
        )
    print(f"profile {config.profile}: halted by {args.operator} (recorded)")
    print(f"  cancelled: {', '.join(report.cancelled) or 'none'}")
    print(f"  flattened: {', '.join(report.flattened) or 'none'}")
    for failure in dict.fromkeys(report.failed):
        print(f"  problem: {failure}", file=sys.stderr)
    if report.complete:
        print("  the exchange shows no open order and no position of this bot")
        return 0
    print("left at the exchange:", file=sys.stderr)
    for line in report.left():
        print(f"  {line}", file=sys.stderr)
    print(
        f"the bot stays halted; to retry: gpttrader kill --profile {config.profile}"
        + (" --no-flatten" if args.no_flatten else ""),
        file=sys.stderr,
    )
    return KILL_INCOMPLETE
