"""Which way a changed setting moves the bot's protections: what a hot reload may take at once."""

from typing import Any

import pytest

from gpttrader.config import load_config
from gpttrader.config.changes import compare


def changed(overrides: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    changes = compare(load_config("dev", env={}), load_config("dev", overrides=overrides, env={}))
    return (
        [c.path for c in changes.tightened],
        [c.path for c in changes.loosened],
        [c.path for c in changes.restart],
    )


@pytest.mark.parametrize(
    ("overrides", "tightened", "loosened"),
    [
        ({"guards": {"daily_loss": {"limit": "0.01"}}}, ["guards.daily_loss.limit"], []),
        ({"guards": {"daily_loss": {"limit": "0.5"}}}, [], ["guards.daily_loss.limit"]),
        # A limit moved to another unit has no direction, however small the number: an operator says why.
        (
            {"guards": {"daily_loss": {"limit": "0.01", "unit": "usd"}}},
            [],
            ["guards.daily_loss.limit", "guards.daily_loss.unit"],
        ),
        ({"guards": {"liquidation_buffer": {"limit": "0.3"}}}, ["guards.liquidation_buffer.limit"], []),  # a floor
        ({"guards": {"spread": {"action": "halt"}}}, ["guards.spread.action"], []),
        ({"guards": {"spread": {"enabled": False}}}, [], ["guards.spread.enabled"]),
        ({"order_limits": {"per_minute": 20}}, [], ["order_limits.per_minute"]),
        ({"order_limits": {"min_interval_seconds": 60}}, ["order_limits.min_interval_seconds"], []),
        ({"risk": {"max_position_size": {"BTC-USD": "0.0001"}}}, ["risk.max_position_size.BTC-USD"], []),
        ({"risk": {"max_notional_per_position": 10}}, ["risk.max_notional_per_position"], []),
    ],
)
def test_the_direction_of_a_change(overrides: dict[str, Any], tightened: list[str], loosened: list[str]) -> None:
    assert changed(overrides) == (tightened, loosened, [])


def test_what_shapes_the_bot_needs_a_restart() -> None:
    shaped = {"symbols": ["BTC-USD"], "interval_seconds": 300, "execution": {"order_type": "market"}}
    _, _, restart = changed(shaped)
    assert restart == ["execution.order_type", "interval_seconds", "symbols"]
