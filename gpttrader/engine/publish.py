"""The views of the bot written from its one state (engine.state): `metrics.json`, the Prometheus registry,
the `account.snapshot` event every few cycles (the performance report's account history) and, at shutdown,
the `bot.stopped` event with the session's summary."""

from dataclasses import asdict
from pathlib import Path

from gpttrader.domain.events import EventType
from gpttrader.engine.state import BotState, BotSummary
from gpttrader.engine.telemetry import write_metrics
from gpttrader.monitoring import BotMetrics
from gpttrader.store import EventStore


class StatePublisher:
    def __init__(
        self,
        events: EventStore,
        metrics_path: Path,
        *,
        monitor: BotMetrics | None,
        snapshot_every: int,
        run_id: str | None = None,
    ) -> None:
        self._events, self.metrics_path, self._monitor = events, metrics_path, monitor
        self._snapshot_every, self._run_id = snapshot_every, run_id

    def cycle(self, state: BotState) -> None:
        """A cycle's state, to every view of it."""
        if state.counts.cycles % self._snapshot_every == 1:
            self._events.append(EventType.ACCOUNT_SNAPSHOT, state.account_payload(), run_id=self._run_id, time=state.at)
        write_metrics(self.metrics_path, state.metrics_payload())
        if self._monitor is not None:
            self._monitor.update(state.snapshot())

    def stopped(self, state: BotState) -> BotSummary:
        """The state at shutdown: the session's summary, recorded, and the last `metrics.json`."""
        summary = state.summary()
        self._events.append(EventType.BOT_STOPPED, asdict(summary), run_id=self._run_id, time=state.at)
        write_metrics(self.metrics_path, state.metrics_payload())
        return summary
