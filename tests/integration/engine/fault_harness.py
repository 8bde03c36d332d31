"""The fault suite: the canary bot of crash_bot.py (the official SDK under our adapter) restarted many times
against one sandbox on a virtual clock. Runs are killed with SIGKILL at random moments (once the exchange
has a random number of new orders, or once a random number of cycles has gone by), and meet lost answers
on order posts, 5xx, 429s and cut feed sockets. Then what must hold whatever happened:

- no client order id twice at the exchange;
- no decision sent twice: the strategy is long or flat and trades at the cap, so each order it sends
  moves the position all the way; a second order on the same side after one that filled completely
  repeats a decision already carried out (what a bot does that took a lost answer for an order not placed);
- the exchange's fills are the store's, by trade id;
- the bot's position is the exchange's;
- the exchange's position, its own fills replayed in time order, never beyond the configured cap.

Seeded, so that a failure replays from its seed. Shared by test_fault_suite.py and
benchmarks/fault_restarts.py.
"""

import json
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from gpttrader.domain import Side
from gpttrader.sandbox import RunningSandbox, SandboxSettings, generate_key_file
from gpttrader.sandbox.exchange import SandboxFill, SandboxOrder
from gpttrader.sandbox.faults import ERROR_STATUSES
from gpttrader.sandbox.runner import DEFAULT_BALANCES
from gpttrader.store import Database, OrdersStore
from tests.integration.engine.crash_bot import canary_config
from tests.integration.sandbox.conftest import admin_call, inject
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[3]
START = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
PRODUCT = "BTC-USD"
API = "/api/v3/brokerage"
ORDERS = f"{API}/orders"
READS = (f"{API}/orders/historical", f"{API}/accounts", f"{API}/products", f"{API}/market")
# Cash for hours of round trips at the cap, so that every buy is the cap's size, never what is left.
BALANCES = {**DEFAULT_BALANCES, "USD": Decimal(10_000_000)}
RUN_TIMEOUT = 120.0  # seconds for one bot process; a run takes one or two, lost answers' backoff included


@dataclass(frozen=True)
class Run:
    """One bot process: the faults waiting for it, when its feed socket is cut and when it is killed
    (minutes are cycles of the virtual clock since it started; None: never)."""

    cycles: int
    faults: tuple[dict[str, Any], ...] = ()
    drop_socket_at: int | None = None
    kill_after_orders: int | None = None
    kill_at_minute: int | None = None


def plan(rng: random.Random) -> Run:
    """A random run: seven in ten are to be killed (half once they placed an order or two, half after some
    cycles; one that ends first ends cleanly), the rest run their few cycles out. Half meet lost answers on
    order posts (for good from the fourth, as the adapter tries four times), half 5xx or 429s on a path,
    never more than three in a row: a read the bot needs to start always gets through, so every run that
    is not killed must end cleanly."""
    faults: list[dict[str, Any]] = []
    if rng.random() < 0.5:
        faults.append(
            {
                "kind": "error_after",
                "status": rng.choice(ERROR_STATUSES),
                "count": rng.randint(1, 5),
                "method": "POST",
                "path_prefix": ORDERS,
            }
        )
    if rng.random() < 0.5:
        failure = rng.choice(
            ({"kind": "http_error", "status": rng.choice(ERROR_STATUSES)}, {"kind": "rate_limit", "retry_after": 0.1})
        )
        faults.append({**failure, "count": rng.randint(1, 3), "path_prefix": rng.choice((ORDERS, *READS))})
    ending = rng.random()
    cycles = rng.randint(8, 20) if ending < 0.7 else rng.randint(2, 8)
    return Run(
        cycles=cycles,
        faults=tuple(faults),
        drop_socket_at=rng.randint(1, cycles - 1) if rng.random() < 0.3 else None,
        kill_after_orders=rng.randint(1, 2) if ending < 0.35 else None,
        kill_at_minute=rng.randint(1, cycles - 1) if 0.35 <= ending < 0.7 else None,
    )


@dataclass
class Tally:
    starts: int = 0
    kills: int = 0
    failures: dict[str, list[str]] = field(default_factory=dict)  # an ending other than clean or killed -> logs
    positions: dict[str, str] | None = None  # the bot's, as the last run reported them if it ended cleanly
    mismatches: list[str] = field(default_factory=list)  # what the last run's reconciliation found


class CanaryBot:
    """The canary bot of crash_bot.py as a process, with its data directory and a log per run; on the
    WebSocket feed, so that a cut socket is one of the faults it meets."""

    def __init__(self, sandbox: RunningSandbox, directory: Path) -> None:
        self.sandbox = sandbox
        self.data = directory / "bot"
        self.out, self.logs = directory / "bot.out", directory / "logs"
        self.logs.mkdir()
        self.tally = Tally()
        assert sandbox.cert_path is not None
        self.config = canary_config(
            self.data, f"https://{sandbox.base_url}", sandbox.cert_path, sandbox.settings.key_files[0]
        )

    def run(self, run: Run) -> None:
        for fault in run.faults:
            inject(self.sandbox, **fault)
        orders, minute = self._orders(), self._minute()
        log = self.logs / f"run-{self.tally.starts}.log"
        self.tally.starts += 1
        self.tally.positions, self.tally.mismatches = None, []
        with (
            self.out.open("w") as out,
            log.open("w") as err,
            subprocess.Popen(self._command(run.cycles), stdout=out, stderr=err, cwd=ROOT) as process,
        ):
            try:
                self._watch(run, process, orders, minute)
                process.wait(timeout=RUN_TIMEOUT)
            finally:
                process.kill()  # only if still running: a wait that timed out must not leave it behind
        admin_call(self.sandbox, "DELETE", "faults").raise_for_status()  # what this run did not meet ends here
        if process.returncode == -9:
            self.tally.kills += 1
        elif process.returncode == 0:
            report = json.loads(self.out.read_text().splitlines()[-1])
            self.tally.positions = report["summary"]["positions"]
            self.tally.mismatches = report["reconcile"]["mismatches"]
        else:
            ending = (log.read_text().strip().splitlines() or ["nothing"])[-1]
            self.tally.failures.setdefault(f"exited with {process.returncode}: {ending}", []).append(str(log))

    def _watch(self, run: Run, process: subprocess.Popen[bytes], orders: int, minute: float) -> None:
        """Cut the socket and kill the process when their moments come, whichever comes first."""
        moments: list[tuple[Callable[[], bool], Callable[[], object]]] = []
        if run.drop_socket_at is not None:
            at = run.drop_socket_at
            moments.append((lambda: self._minute() - minute >= at, lambda: inject(self.sandbox, kind="drop_websocket")))
        if run.kill_after_orders is not None:
            count = run.kill_after_orders
            moments.append((lambda: self._orders() - orders >= count, process.kill))
        if run.kill_at_minute is not None:
            kill_at = run.kill_at_minute
            moments.append((lambda: self._minute() - minute >= kill_at, process.kill))
        while moments:
            wait_for(lambda: process.poll() is not None or any(due() for due, _ in moments), RUN_TIMEOUT, "the run")
            if process.poll() is not None:
                return
            for moment in [m for m in moments if m[0]()]:
                moments.remove(moment)
                moment[1]()

    def _command(self, cycles: int) -> list[str]:
        coinbase = self.config.coinbase
        return [
            sys.executable,
            "-m",
            "tests.integration.engine.crash_bot",
            *("--data", str(self.data), "--url", str(coinbase.sandbox_url)),
            *("--cert", str(coinbase.sandbox_certificate), "--key", str(self.sandbox.settings.key_files[0])),
            *("--cycles", str(cycles), "--websocket"),
        ]

    def _orders(self) -> int:
        return len(self.sandbox.exchange.orders)

    def _minute(self) -> float:
        return self.sandbox.wall.now() / 60


@dataclass(frozen=True)
class Figures:
    restarts: int
    kills: int
    injected: int  # fault plans that met a request
    orders: int
    fills: int
    max_position: Decimal
    cap: Decimal
    seconds: float
    violations: tuple[str, ...]

    def lines(self) -> list[str]:
        return [
            f"restarts {self.restarts} ({self.kills} killed), faults injected {self.injected}",
            f"orders {self.orders}, fills {self.fills}, max position {self.max_position} (cap {self.cap})",
            f"wall time {self.seconds:.1f} s ({self.seconds / max(self.restarts, 1):.2f} s a restart)",
            *(f"VIOLATED: {v}" for v in self.violations),
        ]


def run_suite(directory: Path, *, restarts: int, seed: int) -> Figures:
    """`restarts` bot processes on one sandbox, then a clean one that reconciles what the last left, then
    the checks."""
    key = directory / "key.json"
    generate_key_file(key, "ES256")
    settings = SandboxSettings(
        state_dir=directory / "sandbox",
        key_files=(key,),
        virtual_start=START.timestamp(),
        speed=1.0,
        starting_balances=BALANCES,
    )
    sandbox = RunningSandbox(settings)
    try:
        started = time.monotonic()
        bot = CanaryBot(sandbox, directory)
        rng = random.Random(seed)
        for _ in range(restarts):
            bot.run(plan(rng))
        bot.run(Run(cycles=3))
        seconds = time.monotonic() - started
        injected = int(admin_call(sandbox, "DELETE", "faults").json()["injected"])
        return _audit(bot, injected, seconds)
    finally:
        sandbox.stop()


def _audit(bot: CanaryBot, injected: int, seconds: float) -> Figures:
    exchange = bot.sandbox.exchange
    with exchange.lock:
        orders = [o for o in exchange.orders.values() if o.product_id == PRODUCT]  # in the order made
        fills = [f for f in exchange.fills if f.product_id == PRODUCT]
        held = exchange.wallet("BTC").available + exchange.wallet("BTC").hold - BALANCES["BTC"]
    database = Database(bot.data / "state" / "canary" / "gpttrader.sqlite")
    cap = bot.config.risk.max_position_size[PRODUCT]
    highest, violations = within_cap(fills, cap)
    violations += [f"{len(logs)} runs {ending} (first {logs[0]})" for ending, logs in bot.tally.failures.items()]
    violations += _once_each(orders)
    violations += decisions_sent_once(orders)
    violations += _same_fills(fills, OrdersStore(database))
    violations += _same_position(bot.tally, held)
    database.close()
    return Figures(
        restarts=bot.tally.starts - 1,  # the first start is no restart
        kills=bot.tally.kills,
        injected=injected,
        orders=len(orders),
        fills=len(fills),
        max_position=highest,
        cap=cap,
        seconds=seconds,
        violations=tuple(violations),
    )


def within_cap(fills: list[SandboxFill], cap: Decimal) -> tuple[Decimal, list[str]]:
    """The highest position the exchange's fills made, and whether it ever left 0..cap (below 0, the bot
    sold coins it never bought)."""
    position = highest = lowest = Decimal(0)
    outside = []
    for fill in sorted(fills, key=lambda f: f.trade_time):  # stable: an order's fills stay in their order
        position += fill.size if fill.side is Side.BUY else -fill.size
        highest, lowest = max(highest, position), min(lowest, position)
        if not 0 <= position <= cap:
            outside.append(f"{position} at {fill.trade_time:%d %H:%M:%S}")
    if not outside:
        return highest, []
    return highest, [
        f"the exchange's position was outside 0..{cap} after {len(outside)} of {len(fills)} fills, "
        f"from {lowest} to {highest}; first {', '.join(outside[:3])}"
    ]


def _once_each(orders: list[SandboxOrder]) -> list[str]:
    twice = [cid for cid, n in Counter(o.client_order_id for o in orders).items() if n > 1]
    return [f"{len(twice)} client order ids twice at the exchange: {twice[:3]}"] if twice else []


def decisions_sent_once(orders: list[SandboxOrder]) -> list[str]:
    """`orders` in the order the exchange made them (ties in the virtual clock's time are common)."""
    repeated = []
    previous: SandboxOrder | None = None
    for order in orders:
        if previous is not None and previous.side is order.side and previous.filled_size == previous.base_size:
            repeated.append(f"{order.client_order_id} after {previous.client_order_id}")
        previous = order
    if not repeated:
        return []
    return [f"{len(repeated)} orders repeated a decision carried out already: {', '.join(repeated[:3])}"]


def _same_fills(fills: list[SandboxFill], store: OrdersStore) -> list[str]:
    theirs, ours = {f.trade_id for f in fills}, {f.trade_id for f in store.fills()}
    if theirs == ours:
        return []
    return [f"fills: {len(theirs - ours)} at the exchange only, {len(ours - theirs)} in the store only"]


def _same_position(tally: Tally, held: Decimal) -> list[str]:
    if tally.positions is None:
        return ["the last start did not end cleanly: the bot's positions are unknown"]
    mine = Decimal(tally.positions.get(PRODUCT, "0"))
    problems = [] if mine == held else [f"the bot holds {mine} {PRODUCT}, the exchange's account {held}"]
    return problems + [f"the last start's reconciliation: {m}" for m in tally.mismatches]
