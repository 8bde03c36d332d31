"""The dev profile on a fast clock, as the engine's dev-bot tests share it.

A helper module, not a test module: import from it freely.
"""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gpttrader.app import ApplicationContainer
from gpttrader.config import load_config
from gpttrader.engine.clock import FastClock

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def container(data: Path, start: datetime = START, **overrides: Any) -> ApplicationContainer:
    """The dev profile on BTC-USD and ETH-USD under `data`, its FastClock at `start`."""
    config = load_config("dev", overrides={"data_dir": data, "symbols": ["BTC-USD", "ETH-USD"], **overrides}, env={})
    return ApplicationContainer(config, clock=FastClock(start))
