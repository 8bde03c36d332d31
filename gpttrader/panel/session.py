"""One bot session driven from the panel, on the kernel's own asyncio loop.

The bot's cycles run as a task on the running loop (`TradingBot.cycles`); every blocking call (building
the broker, bootstrap, each cycle, each operator action) runs on one worker thread, so the loop and with
it the notebook stay responsive, and an operator's action never lands inside a cycle. Actions go through
the same engine and stores as the CLI (`TradingBot.kill`, `LiveRiskManager.set_state`) and are recorded
with the operator's name. A live profile starts only through the live gate (preflight, then the opt-in).
A session that fails unexpectedly (a bug in a strategy, say) ends with the kill switch, in any profile:
once its loop is gone, nothing watches its positions.
"""

import asyncio
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import Any, TypeVar

from gpttrader.app.launch import Launch, check_choice, launch
from gpttrader.app.preflight import live_gate
from gpttrader.domain.events import EventType
from gpttrader.engine.bot import TradingBot
from gpttrader.engine.kill import KillReport
from gpttrader.engine.state import BotState
from gpttrader.monitoring import BotMetrics
from gpttrader.panel.phase import Phase
from gpttrader.panel.render import counts_text
from gpttrader.risk import TradingState
from gpttrader.store.refusals import StateRefusedError
from gpttrader.strategy import OrderStrategy, Strategy

log = logging.getLogger(__name__)
T = TypeVar("T")


class BotSession:
    def __init__(
        self,
        profile: str,
        mode: str,
        *,
        operator: str,
        pace_seconds: float = 1.0,
        opted_in: bool = False,
        overrides: Mapping[str, Any] | None = None,
        strategy: Strategy | OrderStrategy | None = None,
        metrics: BotMetrics | None = None,
        on_change: Callable[["BotSession"], None] = lambda _: None,
    ) -> None:
        check_choice(profile, mode)
        if not operator.strip():
            raise ValueError("operator must name who acts (it is recorded with every action)")
        self.profile, self.mode, self.operator = profile, mode, operator
        self.pace_seconds, self.opted_in, self.overrides = pace_seconds, opted_in, dict(overrides or {})
        self.strategy = strategy  # None: the profile's configured strategy
        self.phase = Phase.IDLE
        self.message = ""
        self.view: BotState | None = None
        self.state_change: dict[str, Any] | None = None  # the last trading-state change: who or what, and why
        self.metrics = metrics or BotMetrics()  # what the Prometheus exporter serves
        self.bot: TradingBot | None = None
        self._on_change = on_change
        self._launch: Launch | None = None
        self._worker = ThreadPoolExecutor(1, thread_name_prefix=f"gpttrader-{profile}")
        self._task: asyncio.Task[None] | None = None
        self._notice = ""

    @property
    def active(self) -> bool:
        return self.phase in (Phase.CONNECTING, Phase.RUNNING, Phase.PAUSED, Phase.STOPPING)

    async def start(self) -> None:
        """Build and bootstrap the bot off the loop, then run it as a task on the loop."""
        if self.phase is not Phase.IDLE:
            raise RuntimeError(f"a session starts once; this one is {self.phase}")
        self._set(Phase.CONNECTING, f"profile {self.profile}, {self.mode}")
        try:
            refused = await self._call(self._open)
        except StateRefusedError as exc:  # another bot holds the profile, or its store needs the operator
            refused = str(exc)
        except Exception as exc:
            log.exception("the %s session could not start", self.profile)
            await self._end()
            self._set(Phase.ERROR, f"could not start: {type(exc).__name__}: {exc}")
            return
        if refused is not None:
            await self._end()
            self._set(Phase.REFUSED, refused)
            return
        self.view = self._bot.state
        self.state_change = await self._call(self._read_change)
        self._set(Phase.RUNNING, self._notice or self._running_message)
        self._task = asyncio.get_running_loop().create_task(self._drive())

    async def pause(self) -> None:
        await self._call(self._bot.pause, operator=self.operator)
        self.phase, self.message = (
            Phase.PAUSED,
            "the strategy's decisions are not acted on; marks, fills and guards go on",
        )
        await self.refresh()

    async def resume(self, reason: str) -> None:
        """Back to trading with the operator's reason, as `gpttrader risk set active --reason` does: out of
        reduce-only or halted (recorded with the reason), and out of a pause. A blank reason is refused
        before anything changes."""
        if not reason.strip():
            raise ValueError("a reason is needed to resume: type why trading may go on, then press Resume")
        bot = self._bot
        if bot.risk.state is not TradingState.ACTIVE:
            await self._call(bot.risk.set_state, TradingState.ACTIVE, operator=self.operator, reason=reason)
        if bot.paused:
            await self._call(bot.resume, operator=self.operator)
        self.phase, self.message = Phase.RUNNING, f"resumed by {self.operator}: {reason}"
        await self.refresh()

    async def reduce_only(self) -> None:
        """The operator's reduce-only switch, from active (recorded); `resume` lifts it, with a reason."""
        await self._call(
            self._bot.risk.set_state,
            TradingState.REDUCE_ONLY,
            operator=self.operator,
            reason="reduce-only from the control panel",
        )
        await self.refresh()

    async def kill(self, reason: str = "kill switch from the control panel") -> KillReport:
        """Cancel the open orders, flatten and halt; the bot goes on watching, so the flattening fills show."""
        report = await self._call(self._bot.kill, operator=self.operator, reason=reason)
        self.message = f"kill switch engaged: cancelled {len(report.cancelled)}, flattened {len(report.flattened)}"
        if not report.complete:
            self.message += f"; still at the exchange: {'; '.join(report.left())} (press Kill switch again to retry)"
        await self.refresh()
        return report

    async def stop(self) -> None:
        if self.bot is None or self._task is None:
            return
        self._set(Phase.STOPPING, "after the cycle in progress")
        self.bot.stop()
        await self._task

    async def refresh(self) -> None:
        """After an operator's action: the bot's state read again (on the worker, between cycles)."""
        self.view = await self._call(self._bot.read_state)
        self.state_change = await self._call(self._read_change)
        self._on_change(self)

    def _show_cycle(self) -> None:
        """After a cycle: the state it left (frozen, so read here while the next one runs)."""
        self.view = self._bot.state
        self._on_change(self)

    async def _drive(self) -> None:
        bot = self._bot
        failed = False
        try:
            async for _ in bot.cycles(self._worker):
                view = bot.state
                if view is not None and view.trading_state != (self.state_change or {}).get("to", "active"):
                    self.state_change = await self._call(self._read_change)  # changed: by what, and why
                self._show_cycle()
        except Exception as exc:
            log.exception("the %s session failed", self.profile)
            failed = True
            self._set(Phase.STOPPING, f"failed: {type(exc).__name__}: {exc}")
            await self._kill_after_failure(bot)
        ended = ""
        try:
            summary = await self._call(bot.shutdown)
            ended = f"{summary.cycles} cycles, {counts_text(asdict(summary))}; {summary.lines()[1]}"
            self.view = bot.state
        except Exception as exc:
            log.exception("the %s session did not shut down cleanly", self.profile)
            failed = True
            self.message += f"; shutdown failed: {type(exc).__name__}: {exc}"
        finally:
            await self._end()
        if failed:
            self._set(Phase.ERROR, self.message)
        else:
            self._set(Phase.STOPPED, ended)

    async def _kill_after_failure(self, bot: TradingBot) -> None:
        """A session that failed ends with the kill switch: nothing watches its positions any more. If that
        fails too, say what to run."""
        try:
            report = await self._call(bot.kill, operator="control panel", reason=self.message)
        except Exception as exc:
            log.exception("the kill switch failed after the %s session failed", self.profile)
            self.message += (
                f"; the kill switch failed too ({type(exc).__name__}: {exc}): run "
                f"`gpttrader kill --profile {self.profile}`"
            )
            return
        self.message += f"; kill switch engaged (flattened {', '.join(report.flattened) or 'nothing'})"

    def _open(self) -> str | None:
        """On the worker: the container, the live gate, the bot bootstrapped; or why it may not trade."""
        self._launch = launch(
            self.profile, self.mode, pace_seconds=self.pace_seconds, overrides=self.overrides, strategy=self.strategy
        )
        container = self._launch.container
        container.claim(f"control panel session of {self.operator}")
        gate = live_gate(container, opted_in=self.opted_in)
        if gate.refused:
            return "\n".join(gate.lines())
        self.bot = container.create_bot(self.strategy, monitor=self.metrics)
        report = self.bot.bootstrap()
        if not report.ok:
            self._notice = "reconciliation failed and trading is halted: " + "; ".join(report.mismatches)
        return None

    async def _end(self) -> None:
        """Close what the session opened (the container, a local sandbox), then its worker thread."""
        try:
            await self._call(self._close)
        finally:
            self._worker.shutdown(wait=False)

    def _close(self) -> None:
        if self._launch is not None:
            self._launch.close()
            self._launch = None

    def _read_change(self) -> dict[str, Any] | None:
        """On the worker: the trading state's last recorded change, the banner's reason."""
        return self._bot.risk.journal.latest(EventType.RISK_STATE_CHANGED)

    @property
    def _running_message(self) -> str:
        return f"profile {self.profile}, {self.mode}"

    @property
    def _bot(self) -> TradingBot:
        if self.bot is None:
            raise RuntimeError("no bot is running: start the session first")
        return self.bot

    async def _call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._worker, lambda: function(*args, **kwargs))

    def _set(self, phase: Phase, message: str) -> None:
        self.phase, self.message = phase, message
        self._on_change(self)
