"""The registry as the bot feeds it: counters only go up, across a new bot counting from zero again, and
a position closed since the last snapshot reads 0, not its last size."""

from gpttrader.monitoring import BotMetrics, Snapshot


def snapshot(cycles: int, positions: dict[str, float]) -> Snapshot:
    return Snapshot("paper", cycles, cycles, 0, 0, 0, 0, 0, 0.01, 1000.0, 900.0, "active", positions, positions)


def value(metrics: BotMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, {"profile": "paper", **labels})


def test_counters_survive_a_new_bot_and_closed_positions_read_zero() -> None:
    metrics = BotMetrics()
    metrics.update(snapshot(5, {"BTC-USD": 0.5}))
    assert value(metrics, "gpttrader_cycles_total") == 5
    assert value(metrics, "gpttrader_position", product="BTC-USD") == 0.5
    metrics.update(snapshot(7, {}))
    assert value(metrics, "gpttrader_cycles_total") == 7
    assert value(metrics, "gpttrader_position", product="BTC-USD") == 0
    metrics.update(snapshot(2, {"ETH-USD": 1.0}))  # the panel's next session: a new bot
    assert value(metrics, "gpttrader_cycles_total") == 9
    assert value(metrics, "gpttrader_position", product="ETH-USD") == 1.0
