"""The control panel: ipywidgets over a `BotSession`.

Buttons only schedule coroutines on the kernel's running loop and return at once; the session does the
work off the loop, and each view it reads after a cycle is rendered here, on the loop's thread. A kill
switch asks for confirmation first; every action is recorded by the engine with the operator's name.
"""

import asyncio
import getpass
import logging
from collections import deque
from collections.abc import Coroutine, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from gpttrader.app.launch import MODES, SIMULATED, check_choice, state_dir
from gpttrader.config.redaction import configure_logging
from gpttrader.domain import Granularity
from gpttrader.monitoring import BotMetrics, MetricsServer, serve_metrics
from gpttrader.panel import render
from gpttrader.panel.phase import Phase
from gpttrader.panel.view import read_stored

if TYPE_CHECKING:
    from gpttrader.panel.session import BotSession
    from gpttrader.strategy.registry import StrategySpec

log = logging.getLogger(__name__)
CHART_POINTS = 2000


def _button(description: str, css: str, style: str = "", icon: str = "") -> w.Button:
    button = w.Button(description=description, button_style=style, icon=icon)
    button.add_class(css)
    return button


def _html(css: str, width: str | None = None) -> w.HTML:
    # A box of its own width that scrolls its table sideways rather than spilling into its neighbour.
    html = w.HTML(layout=w.Layout(width=width, padding="0 12px 0 0", overflow="auto") if width else w.Layout())
    html.add_class(css)
    return html


def _equity_window() -> tuple[deque[datetime], deque[float]]:
    """The chart's last points: each update sends the whole series to the browser, so it is bounded."""
    return deque(maxlen=CHART_POINTS), deque(maxlen=CHART_POINTS)


class ControlPanel:
    def __init__(
        self,
        *,
        profile: str = "paper",
        mode: str | None = None,
        pace_seconds: float = 1.0,
        operator: str | None = None,
        overrides: Mapping[str, Any] | None = None,
        strategy: "StrategySpec | None" = None,
        granularity: str | None = None,
        metrics_port: int = 0,
    ) -> None:
        mode = mode or MODES.get(profile, ("",))[0]
        check_choice(profile, mode)
        configure_logging("WARNING")  # the bot logs from a worker thread into the kernel's output: redacted
        self.operator = operator or getpass.getuser()
        self.overrides = dict(overrides or {})  # the configuration's explicit layer, for every session
        # A researcher's own strategy (an object, a class or "module:Class"); None: the profile's. Built at the
        # first Start, so that showing the panel imports no strategy code.
        self.strategy = strategy
        self.session: BotSession | None = None
        self.metrics = BotMetrics()  # one registry for the panel's sessions, so the exporter outlives them
        self.exporter: MetricsServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._equity: tuple[deque[datetime], deque[float]] = _equity_window()

        self.profile = w.Dropdown(options=list(MODES), value=profile, description="profile")
        self.mode = w.Dropdown(options=list(MODES[profile]), value=mode, description="mode")
        # The strategy's bar size for the session: the profile's (strategy.granularity), or one chosen here.
        self.granularity = w.Dropdown(
            options=[("as the profile", ""), *((g.value, g.value) for g in Granularity)],
            value="" if granularity is None else Granularity.parse(granularity).value,
            description="bars",
        )
        self.pace = w.BoundedFloatText(value=pace_seconds, min=0.0, max=600.0, step=0.1, description="pace (s)")
        self.opt_in = w.Checkbox(value=False, description="opt in: trade real money", indent=False)
        self.start = _button("Start", "gt-start", "success", "play")
        self.pause = _button("Pause", "gt-pause", icon="pause")
        self.stop = _button("Stop", "gt-stop", "warning", "stop")
        self.reduce_only = _button("Reduce-only", "gt-reduce-only", icon="shield")
        self.reason = w.Text(placeholder="why trading may go on (recorded)", description="reason")
        self.reason.add_class("gt-resume-reason")
        self.resume = _button("Resume", "gt-resume", "info", "play-circle")
        self.kill = _button("Kill switch", "gt-kill", "danger", "power-off")
        self.kill_confirm = _button("Confirm: cancel all, flatten, halt", "gt-kill-confirm", "danger")
        self.kill_cancel = _button("Cancel", "gt-kill-cancel")
        self.confirm = w.HBox(
            [
                w.HTML("<b>Kill switch:</b> cancel every open order, flatten every position and halt trading?"),
                self.kill_confirm,
                self.kill_cancel,
            ]
        )
        self.confirm.add_class("gt-confirm")
        self.confirm.layout.display = "none"
        self.metrics_port = w.BoundedIntText(value=metrics_port, min=0, max=65535, description="metrics port")
        self.serve = _button("Serve metrics", "gt-serve-metrics", icon="line-chart")
        self.metrics_link = _html("gt-metrics-link")
        self.banner = _html("gt-banner-box")
        self.status = _html("gt-status-box")
        self.summary = _html("gt-summary-box")
        self.positions, self.orders = _html("gt-positions-box", "45%"), _html("gt-orders-box", "55%")
        self.guards, self.alerts = _html("gt-guards-box"), _html("gt-alerts-box", "55%")
        self.sizing = _html("gt-sizing-box")
        self.show_all_guards = w.ToggleButton(value=False, description="All guards", icon="list")
        self.show_all_guards.add_class("gt-guards-all")
        self.chart = _html("gt-equity-box")
        self.live = w.VBox(
            [
                self.chart,
                w.HBox([self.positions, self.orders]),
                w.HBox([w.VBox([self.show_all_guards, self.guards], layout=w.Layout(width="45%")), self.alerts]),
                self.sizing,
            ]
        )
        self.live.layout.display = "none"
        self.widget = w.VBox(
            [
                w.HTML(render.STYLE + "<h3>gpttrader control panel</h3>"),
                w.HBox([self.profile, self.mode, self.granularity, self.pace, self.opt_in]),
                w.HBox([self.start, self.pause, self.stop, self.reduce_only, self.kill]),
                w.HBox([self.reason, self.resume]),
                self.confirm,
                w.HBox([self.metrics_port, self.serve, self.metrics_link]),
                self.banner,
                self.status,
                self.summary,
                self.live,
            ]
        )
        self.widget.add_class("gt-panel")

        self.profile.observe(self._on_profile, names="value")
        self.mode.observe(lambda _: self._sync_controls(), names="value")
        self.start.on_click(lambda _: self._spawn(self._start()))
        self.pause.on_click(lambda _: self._spawn(self._pause()))
        self.stop.on_click(lambda _: self._spawn(self._stop()))
        self.reduce_only.on_click(lambda _: self._spawn(self._session.reduce_only()))
        self.resume.on_click(lambda _: self._spawn(self._resume()))
        self.show_all_guards.observe(lambda _: self._render(), names="value")
        self.kill.on_click(lambda _: self._show_confirm(True))
        self.kill_cancel.on_click(lambda _: self._show_confirm(False))
        self.kill_confirm.on_click(lambda _: self._spawn(self._kill()))
        self.serve.on_click(lambda _: self._toggle_exporter())
        self._show_stored()
        self._sync_controls()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    # -- actions -----------------------------------------------------------------------------------------
    def _spawn(self, action: Coroutine[Any, Any, None]) -> None:
        """Schedule an action on the kernel's running loop; a failure shows in the status line."""
        task = asyncio.get_running_loop().create_task(action)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: "asyncio.Task[None]") -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("panel action failed: %s", error, exc_info=error)
            self.status.value = render.status_html("error", f"{type(error).__name__}: {error}")
            self._sync_controls()

    async def _start(self) -> None:
        self._equity = _equity_window()
        self.chart.value = ""
        # Imported at the first Start: the engine behind a session is seconds of imports, and the panel
        # shows (and reads the stored state) without it.
        from gpttrader.panel.session import BotSession
        from gpttrader.strategy import resolve_strategy

        self.session = BotSession(
            self.profile.value,
            self.mode.value,
            operator=self.operator,
            pace_seconds=float(self.pace.value),
            opted_in=bool(self.opt_in.value),
            overrides=self._session_overrides(),
            strategy=None if self.strategy is None else resolve_strategy(self.strategy),
            metrics=self.metrics,
            on_change=lambda _: self._render(),
        )
        await self.session.start()

    def _session_overrides(self) -> dict[str, Any]:
        if not self.granularity.value:
            return self.overrides
        strategy = {**self.overrides.get("strategy", {}), "granularity": self.granularity.value}
        return {**self.overrides, "strategy": strategy}

    async def _pause(self) -> None:
        await self._session.pause()

    async def _resume(self) -> None:
        """Resume with the reason typed; a blank one is refused in the status line, nothing recorded."""
        session = self._session
        try:
            await session.resume(self.reason.value)
        except ValueError as exc:
            session.message = str(exc)
            self._render()
            return
        self.reason.value = ""

    async def _stop(self) -> None:
        await self._session.stop()

    async def _kill(self) -> None:
        self._show_confirm(False)
        await self._session.kill()

    def _show_confirm(self, shown: bool) -> None:
        self.confirm.layout.display = "flex" if shown else "none"
        self._sync_controls()

    def _toggle_exporter(self) -> None:
        if self.exporter is None:
            self.exporter = serve_metrics(self.metrics.registry, int(self.metrics_port.value))
            url = f"http://127.0.0.1:{self.exporter.port}/metrics"
            self.metrics_link.value = f'<a href="{url}" target="_blank">{url}</a>'
            self.serve.description = "Stop metrics"
        else:
            self.exporter.stop()
            self.exporter = None
            self.metrics_link.value = ""
            self.serve.description = "Serve metrics"

    # -- rendering ---------------------------------------------------------------------------------------
    def _on_profile(self, change: dict[str, Any]) -> None:
        modes = MODES[change["new"]]
        self.mode.options = list(modes)
        self.mode.value = modes[0]
        self._show_stored()
        self._sync_controls()

    def _show_stored(self) -> None:
        stored = read_stored(state_dir(self.profile.value, self.overrides))
        self.summary.value = render.stored_html(stored, self.profile.value)
        self.status.value = render.status_html("idle", "")

    def _render(self) -> None:
        session = self.session
        if session is None:
            return
        self.status.value = render.status_html(session.phase.value, session.message)
        view = session.view
        if view is not None:
            self.live.layout.display = "flex"
            self.banner.value = render.banner_html(view, session.state_change)
            self.summary.value = render.summary_html(view)
            self.positions.value = render.positions_html(view.positions)
            self.orders.value = render.orders_html(view.orders)
            self.guards.value = render.guards_html(view.guards, view.at, show_all=self.show_all_guards.value)
            self.alerts.value = render.alerts_html(view.alerts, view.active_alerts)
            self.sizing.value = render.sizing_html(view.sizing)
            times, values = self._equity
            if view.equity is not None and (not times or view.at > times[-1]):
                times.append(view.at)
                values.append(float(view.equity))
                self.chart.value = render.equity_svg(times, values)
        self._sync_controls()

    @property
    def _session(self) -> "BotSession":
        if self.session is None:
            raise RuntimeError("no session: press Start first")
        return self.session

    @property
    def _running(self) -> bool:
        return self.session is not None and self.session.phase in (Phase.RUNNING, Phase.PAUSED)

    def _sync_controls(self) -> None:
        session = self.session
        busy = session is not None and session.active
        running = self._running
        for control in (self.profile, self.mode, self.granularity, self.pace, self.opt_in, self.start):
            control.disabled = busy
        self.pace.layout.display = "flex" if (self.profile.value, self.mode.value) in SIMULATED else "none"
        self.opt_in.layout.display = "flex" if self.mode.value == "live" else "none"
        self.stop.disabled = not running
        self.kill.disabled = not running or self.confirm.layout.display != "none"
        paused = session is not None and session.phase is Phase.PAUSED
        self.pause.disabled = not running or paused
        state = session.view.trading_state if session is not None and session.view is not None else None
        self.reduce_only.disabled = not running or state != "active"
        self.resume.disabled = self.reason.disabled = not running or (state == "active" and not paused)
