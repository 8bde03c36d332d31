"""One state per cycle: the summary, metrics.json, the Prometheus registry, the account snapshot event, the
health and banner the alerts and the panel read all come from the one frozen state the cycle left, so they
agree with each other to the figure."""

import json
from dataclasses import FrozenInstanceError
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from gpttrader.domain.events import EventType
from gpttrader.engine.state import BotState
from gpttrader.monitoring import BotMetrics
from gpttrader.panel import render
from tests.integration.engine.dev_sessions import container
from tests.integration.engine.strategies import BuyEveryBar


def samples(monitor: BotMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(monitor.registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_every_view_of_the_bot_reads_the_state_its_cycle_left(tmp_path: Path) -> None:
    monitor = BotMetrics()
    with container(tmp_path) as app:
        bot = app.create_bot(BuyEveryBar(), monitor=monitor)
        bot.bootstrap()
        bot.run(max_cycles=11)  # the account snapshot is written on cycles 1 and 11
        state = bot.state
        assert isinstance(state, BotState)
        metrics = json.loads(bot.metrics_path.read_text())
        snapshots = list(app.event_store.read(types=[EventType.ACCOUNT_SNAPSHOT]))
        scraped = samples(monitor)
        summary = bot.summary()

    assert state.counts.cycles == 11
    assert state.positions, "the strategy buys: the bot holds something"
    assert summary == state.summary()
    assert summary.equity == f"{state.equity:.2f}"
    # metrics.json is the state's, written by the same cycle
    assert metrics == json.loads(json.dumps(state.metrics_payload(), default=str))
    assert metrics["cycle"]["cycles"] == 11
    assert Decimal(metrics["equity"]) == state.equity
    # the account snapshot event of this cycle
    last = snapshots[-1]
    assert last.time == state.at
    assert Decimal(last.payload["equity"]) == state.equity
    assert last.payload["positions"] == {p.product: str(p.size) for p in state.positions}
    # the Prometheus registry
    profile = (("profile", "dev"),)
    assert scraped[("gpttrader_cycles_total", profile)] == 11
    assert scraped[("gpttrader_equity", profile)] == float(state.equity or 0)
    for position in state.positions:
        labels = tuple(sorted({"profile": "dev", "product": position.product}.items()))
        assert scraped[("gpttrader_position", labels)] == float(position.size)
    # the health the alert rules judged, the banner and the panel
    assert state.health.equity == float(state.equity or 0)
    assert state.health.state == state.trading_state
    assert f"equity <b>{state.equity:,.2f}</b>" in render.summary_html(state)
    assert f"cycle {state.counts.cycles} at" in render.summary_html(state)


def test_the_state_is_frozen_and_the_next_cycle_leaves_a_new_one(tmp_path: Path) -> None:
    with container(tmp_path) as app:
        bot = app.create_bot(BuyEveryBar())
        bot.bootstrap()
        started = bot.state
        bot.cycle()
        first = bot.state
        bot.cycle()
        second = bot.state
        bot.shutdown()
    assert started is not None
    assert first is not None
    assert second is not None
    assert (started.counts.cycles, first.counts.cycles, second.counts.cycles) == (0, 1, 2)
    assert first is not second
    with pytest.raises(FrozenInstanceError):  # read by the panel's loop while the next cycle runs
        first.equity = Decimal(0)  # type: ignore[misc]
