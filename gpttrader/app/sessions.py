"""A bounded paper session, the paper notebook's one step: against a sandbox exchange started here on a
virtual clock (an hour of market in seconds, no network), or against Coinbase's public data on the wall
clock. Returns what happened as tables."""

import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from gpttrader.app.container import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.config import load_config
from gpttrader.engine.bot import BotSummary
from gpttrader.sandbox import RunningSandbox, SandboxSettings, generate_key_file

SOURCES = ("sandbox", "coinbase")


@dataclass
class PaperSession:
    summary: BotSummary
    fills: pd.DataFrame
    decisions: pd.DataFrame
    metrics_path: Path


def paper_session(
    *,
    cycles: int = 60,
    source: str = "sandbox",
    symbols: list[str] | None = None,
    strategy: str = "ma_cross",
    strategy_params: dict[str, Any] | None = None,
) -> PaperSession:
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    overrides: dict[str, Any] = {"strategy": {"name": strategy, "params": strategy_params or {"fast": 5, "slow": 20}}}
    if symbols:
        overrides["symbols"] = symbols
    if source == "coinbase":
        return _run(load_config("paper", overrides=overrides), None, cycles)
    with tempfile.TemporaryDirectory(prefix="gpttrader-sandbox-") as folder:
        key = Path(folder) / "key.json"
        generate_key_file(key)
        start = datetime.now(UTC).replace(second=0, microsecond=0).timestamp()
        sandbox = RunningSandbox(
            SandboxSettings(state_dir=Path(folder) / "sandbox", key_files=(key,), virtual_start=start)
        )
        try:
            env = {
                "COINBASE_SANDBOX_URL": f"https://{sandbox.base_url}",
                "COINBASE_SANDBOX_CERT": str(sandbox.cert_path),
            }
            overrides["coinbase"] = {"public_requests_per_second": 1000, "websocket": False}
            config = load_config("paper", overrides=overrides, env={**os.environ, **env})
            return _run(config, sandbox, cycles)
        finally:
            sandbox.stop()


def _run(config: Any, sandbox: RunningSandbox | None, cycles: int) -> PaperSession:
    clock = SandboxClock(sandbox) if sandbox is not None else None
    with ApplicationContainer(config, clock=clock) as container:
        bot = container.create_bot()
        bot.bootstrap()
        started = bot.clock.now()
        bot.run(max_cycles=cycles)
        summary = bot.shutdown()
        fills = pd.DataFrame(
            [
                {
                    "time": f.time,
                    "product": f.product_id,
                    "side": f.side.value,
                    "price": f.price,
                    "size": f.size,
                    "fee": f.fee,
                }
                for f in container.orders_store.fills()
                if f.time >= started
            ]
        )
        decisions = pd.DataFrame(
            [e.payload for e in container.event_store.read(types=["strategy.decision"]) if e.time >= started]
        )
        return PaperSession(summary, fills, decisions, bot.metrics_path)
