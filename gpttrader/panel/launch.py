"""What the panel starts for a profile and mode: the container on the right clock and, for a paper
session on the local sandbox, the sandbox itself.

Modes by profile: dev runs the deterministic broker; paper runs on a local sandbox exchange (offline,
on a virtual clock) or on Coinbase's public data (wall clock); canary and prod are live. Simulated
clocks are paced, one cycle every `pace_seconds`, so that a person can watch a session of hours.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gpttrader.app.container import ApplicationContainer
from gpttrader.app.local_sandbox import LocalSandbox
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.config import load_config
from gpttrader.engine.clock import FastClock, PacedClock

MODES: dict[str, tuple[str, ...]] = {
    "dev": ("deterministic",),
    "paper": ("sandbox", "coinbase"),
    "canary": ("live",),
    "prod": ("live",),
}
SIMULATED = frozenset({("dev", "deterministic"), ("paper", "sandbox")})


def check_choice(profile: str, mode: str) -> None:
    if profile not in MODES:
        raise ValueError(f"profile must be one of {', '.join(MODES)}, got {profile!r}")
    if mode not in MODES[profile]:
        raise ValueError(f"mode for profile {profile} must be one of {', '.join(MODES[profile])}, got {mode!r}")


@dataclass
class Launch:
    container: ApplicationContainer
    sandbox: LocalSandbox | None = None

    def close(self) -> None:
        try:
            self.container.close()
        finally:
            if self.sandbox is not None:
                self.sandbox.stop()


def launch(profile: str, mode: str, *, pace_seconds: float, overrides: Mapping[str, Any] | None = None) -> Launch:
    """`overrides`: the configuration's explicit-arguments layer (a data dir, symbols, the interval...)."""
    check_choice(profile, mode)
    overrides = dict(overrides or {})
    if (profile, mode) == ("paper", "sandbox"):
        local = LocalSandbox()
        try:
            config = local.config(profile, overrides)
            clock = PacedClock(SandboxClock(local.sandbox), pace_seconds)
            return Launch(ApplicationContainer(config, clock=clock), local)
        except BaseException:
            local.stop()
            raise
    config = load_config(profile, overrides=overrides)
    if profile == "dev":
        start = datetime.now(UTC).replace(second=0, microsecond=0)
        return Launch(ApplicationContainer(config, clock=PacedClock(FastClock(start), pace_seconds)))
    return Launch(ApplicationContainer(config))


def state_dir(profile: str, overrides: Mapping[str, Any] | None = None) -> Path:
    """Where the profile keeps its stores (nothing there yet: the panel's first run)."""
    return load_config(profile, overrides=overrides).state_dir
