"""`gpttrader run --profile paper` runs until stopped: SIGTERM (or SIGINT) ends it cleanly, with its summary,
its metrics and a bot.stopped event; a live profile refuses to start without the opt-in."""

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gpttrader.config import load_config
from gpttrader.strategy import build_strategy
from tests.integration.engine.conftest import sandbox_env
from tests.integration.sandbox.conftest import SandboxFactory

CLI = (sys.executable, "-m", "gpttrader.app.cli")


def run_until_first_cycle(profile: str, env: dict[str, str], stop: signal.Signals) -> tuple[str, str, int, Path]:
    """`gpttrader run --profile PROFILE` on the exchange at COINBASE_SANDBOX_URL (in real time), stopped by
    `stop` once its first cycle wrote its metrics."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gpttrader.app.cli", "run", "--profile", profile]
        + (["--mode", "coinbase"] if profile == "paper" else []),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    metrics = Path(env["GPTTRADER_DATA_DIR"]) / "state" / profile / "metrics.json"
    deadline = time.monotonic() + 60
    while not metrics.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    process.send_signal(stop)
    out, err = process.communicate(timeout=60)
    return out, err, process.returncode, metrics


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_paper_runs_until_a_signal_stops_it(
    start_sandbox: SandboxFactory, clean_env: dict[str, str], stop: signal.Signals
) -> None:
    env = {**clean_env, **sandbox_env(start_sandbox(), key=False)}
    out, err, code, metrics = run_until_first_cycle("paper", env, stop)
    assert code == 0, err[-3000:]
    assert "profile paper: 1 cycles" in out
    assert json.loads(metrics.read_text())["cycle"]["cycles"] == 1
    shown = subprocess.run(
        [sys.executable, "-m", "gpttrader.app.cli", "events", "tail", "--profile", "paper", "--type", "bot.stopped"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "bot.stopped" in shown.stdout


def test_paper_on_the_local_sandbox_decides_on_hourly_bars_of_its_virtual_clock(clean_env: dict[str, str]) -> None:
    """The default paper mode: a sandbox exchange started in the process, on a virtual clock the bot moves as
    fast as it goes (--pace 0), its history long enough for the strategy's warm-up in hourly bars."""
    run = subprocess.run(
        [*CLI, "run", "--profile", "paper", "--granularity", "ONE_HOUR", "--cycles", "130", "--pace", "0"],
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    events = subprocess.run(
        [
            sys.executable,
            "-m",
            "gpttrader.app.cli",
            "events",
            "tail",
            "--profile",
            "paper",
            "--type",
            "bot.started",
            "--json",
        ],
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    started = json.loads(events.stdout.splitlines()[-1])["payload"]
    config = load_config("paper", env={})
    products = len(config.symbols)
    warmup = build_strategy(config.strategy.name, config.strategy.params).warmup + config.risk.volatility_window + 1
    assert (started["granularity"], started["warmup_bars"]) == ("ONE_HOUR", products * warmup)
    # 130 minutes of market: the hour closed before the start, then two or three more (not 1,300 minutes)
    bars = int(re.search(r"(\d+) bars", run.stdout).group(1))  # type: ignore[union-attr]
    assert bars in (products * 3, products * 4), run.stdout


def test_a_live_profile_needs_the_opt_in(start_sandbox: SandboxFactory, clean_env: dict[str, str]) -> None:
    sandbox = start_sandbox()
    env = {**clean_env, **sandbox_env(sandbox)}
    refused = subprocess.run(
        [sys.executable, "-m", "gpttrader.app.cli", "run", "--profile", "canary"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "[PASS] credentials" in refused.stderr
    assert "not trading: no opt-in" in refused.stderr
    assert "opt in with --live" in refused.stderr
    bare = {k: v for k, v in env.items() if k != "COINBASE_KEY_FILE"}
    no_key = subprocess.run(
        [sys.executable, "-m", "gpttrader.app.cli", "run", "--profile", "canary", "--live"],
        env=bare,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert no_key.returncode == 2
    assert "[FAIL] credentials: no API key in the environment" in no_key.stderr
    assert "not trading: preflight failed" in no_key.stderr


@pytest.mark.slow
def test_the_canary_starts_once_preflight_passes_and_the_opt_in_is_given(
    start_sandbox: SandboxFactory, clean_env: dict[str, str]
) -> None:
    sandbox = start_sandbox()
    env = {**clean_env, **sandbox_env(sandbox, GPTTRADER_LIVE="1")}
    out, err, code, _ = run_until_first_cycle("canary", env, signal.SIGTERM)
    assert code == 0, out + err[-3000:]
    assert "profile canary: 1 cycles" in out
