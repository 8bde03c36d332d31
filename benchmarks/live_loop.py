"""The live loop's speed and size, against the sandbox.

1. Decision latency: the canary bot on the sandbox's feed, its WebSocket ticker telling it a bar closed,
   a strategy that trades on every bar; from that tick to the order handed to the Coinbase broker (the
   HTTP request leaving the process). Reported whole, and for the part after the closed bar is in hand
   (the strategy, sizing, the risk checks and the decision written to SQLite), since the whole includes a
   REST read of the closed candle; the in-process part also leaves out the exchange's answers it waits for
   (the order book the impact check walks: a round trip to the sandbox, which here shares the process).
   The sandbox runs on a virtual clock that a driver moves one bar at a time, so forty bars take seconds:
   for a one-minute strategy and for a one-hour one.
2. Peak RSS of a headless `gpttrader run --profile paper` process on the sandbox's market data.

Aims: p99 under 5 ms inside the process, RSS under 100 MB.
"""

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.config import load_config
from gpttrader.config.guards import Guards
from gpttrader.domain import Granularity, Side
from gpttrader.sandbox import RunningSandbox, SandboxSettings, generate_key_file
from gpttrader.strategy import Bar, OrderIntent

BARS = 40
START = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


@dataclass
class _Flip:
    side: Side = Side.SELL


@dataclass(frozen=True)
class EveryBar:
    """Buys on one bar and sells on the next, so that every bar produces an order."""

    name: str = "every_bar"
    warmup: int = 1

    def new_state(self) -> _Flip:
        return _Flip()

    def on_bar(self, bar: Bar, state: _Flip) -> tuple[OrderIntent, ...]:
        state.side = Side.BUY if state.side is Side.SELL else Side.SELL
        return (OrderIntent(bar.product_id, state.side),)


def decision_latency(folder: Path, granularity: Granularity) -> dict[str, float]:
    key = folder / "key.json"
    generate_key_file(key)
    sandbox = RunningSandbox(
        SandboxSettings(state_dir=folder / "sandbox", key_files=(key,), virtual_start=START.timestamp(), speed=1.0)
    )
    try:
        config = load_config(
            "canary",
            overrides={
                "data_dir": folder / "bot",
                "guards": {name: {"enabled": False} for name in Guards.model_fields},
                "coinbase": {"private_requests_per_second": 1000, "public_requests_per_second": 1000},
                "strategy": {"granularity": granularity.value},
                # Forty hours of bars: the canary's one-hour window and its daily order count would stop them.
                "trading_window": None,
                "order_limits": {"per_minute": 100, "per_hour": 1000, "per_day": 1000, "min_interval_seconds": 0},
            },
            env={
                "COINBASE_SANDBOX_URL": f"https://{sandbox.base_url}",
                "COINBASE_SANDBOX_CERT": str(sandbox.cert_path),
                "COINBASE_KEY_FILE": str(key),
            },
        )
        with ApplicationContainer(config, clock=SandboxClock(sandbox, drive=False)) as container:
            bot = container.create_bot(EveryBar())
            bot.bootstrap()
            done = threading.Event()

            def drive() -> None:
                moment = START
                for _ in range(BARS):
                    time.sleep(0.25)
                    moment += granularity.width
                    sandbox.advance_to(moment)
                time.sleep(0.5)
                bot.stop()
                done.set()

            threading.Thread(target=drive, daemon=True).start()
            bot.run()
            done.wait(30)
            bot.shutdown()
            figures = bot.telemetry.as_dict()
            figures["orders"] = bot.metrics.orders
            return figures
    finally:
        sandbox.stop()


def paper_rss(folder: Path, seconds: float = 15.0) -> float:
    key = folder / "key.json"
    generate_key_file(key)
    sandbox = RunningSandbox(SandboxSettings(state_dir=folder / "sandbox", key_files=(key,)))
    try:
        env = {
            **os.environ,
            "GPTTRADER_DATA_DIR": str(folder / "data"),
            "COINBASE_SANDBOX_URL": f"https://{sandbox.base_url}",
            "COINBASE_SANDBOX_CERT": str(sandbox.cert_path),
            "GPTTRADER_LOG_LEVEL": "WARNING",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "gpttrader.app.cli", "run", "--profile", "paper", "--mode", "coinbase"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(seconds)
        # The process's own high-water mark since it started its program (getrusage would count the pages
        # it shared with this process between fork and exec).
        status = Path(f"/proc/{process.pid}/status").read_text()
        peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
        process.send_signal(signal.SIGTERM)
        process.wait(60)
        return peak
    finally:
        sandbox.stop()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        for granularity in (Granularity.ONE_MINUTE, Granularity.ONE_HOUR):
            figures = decision_latency(Path(folder) / f"latency-{granularity.value}", granularity)
            print(
                f"{granularity.value} strategy: decision latency over {BARS} bars, {figures['orders']} orders "
                "(ticker -> order out of the process):"
            )
            whole = figures["decision_latency_ms_p50"], figures["decision_latency_ms_p99"]
            print(f"  whole:      p50 {whole[0]:.2f} ms, p99 {whole[1]:.2f} ms")
            print(
                f"  in process: p50 {figures['decision_in_process_ms_p50']:.2f} ms, "
                f"p99 {figures['decision_in_process_ms_p99']:.2f} ms "
                "(after the closed candle was read, book reads aside)"
            )
            round_trip = figures["latency_ms_p50"], figures["latency_ms_p99"]
            print(f"  order round trip: p50 {round_trip[0]:.2f} ms, p99 {round_trip[1]:.2f} ms")
        rss = paper_rss(Path(folder) / "rss")
        print(f"peak RSS of `gpttrader run --profile paper` (10 products, 15 s): {rss:.0f} MB")


if __name__ == "__main__":
    main()
