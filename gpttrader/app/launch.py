"""The session registry: what a (profile, mode) runs on. The one place that maps them to a clock, a broker
(through the profile's configuration) and, for paper on the local sandbox, the sandbox itself; `gpttrader
run`, the notebooks' sessions and the control panel all start here.

Modes by profile: dev runs the deterministic broker on a simulated clock; paper runs on a local sandbox
exchange started here (offline, on a virtual clock that the bot moves) or on the profile's market data
(`coinbase`: Coinbase's public data, or the exchange at COINBASE_SANDBOX_URL, on the wall clock); canary
and prod are live. A simulated clock is paced at `pace_seconds` of wall time a cycle (0: as fast as the
machine goes; None: real time, a cycle every `interval_seconds`).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpttrader.app.container import ApplicationContainer
from gpttrader.config import BotConfig, load_config
from gpttrader.engine.clock import Clock, FastClock, PacedClock

if TYPE_CHECKING:
    from gpttrader.app.local_sandbox import LocalSandbox
    from gpttrader.strategy import OrderStrategy, Strategy

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
    sandbox: "LocalSandbox | None" = None

    def close(self) -> None:
        try:
            self.container.close()
        finally:
            if self.sandbox is not None:
                self.sandbox.stop()

    def __enter__(self) -> "Launch":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def launch(
    profile: str,
    mode: str,
    *,
    pace_seconds: float | None,
    overrides: Mapping[str, Any] | None = None,
    strategy: "Strategy | OrderStrategy | None" = None,
) -> Launch:
    """`overrides`: the configuration's explicit-arguments layer (a data dir, symbols, the interval...);
    `strategy`: a researcher's own object instead of the profile's (the local sandbox's history is sized to
    its warm-up)."""
    check_choice(profile, mode)
    overrides = dict(overrides or {})
    if (profile, mode) == ("paper", "sandbox"):
        # Imported here: the sandbox exchange (aiohttp, its server) is a second's import that the control
        # panel, which imports this module to show itself, would otherwise pay before it appears.
        from gpttrader.app.local_sandbox import LocalSandbox
        from gpttrader.app.sandbox_clock import SandboxClock

        config = load_config(profile, overrides=overrides)  # first: a bad setting starts no exchange
        local = LocalSandbox(history=history_read_at_start(config, strategy))
        try:
            config = local.config(profile, overrides)
            return Launch(
                ApplicationContainer(config, clock=_paced(SandboxClock(local.sandbox), config, pace_seconds)), local
            )
        except BaseException:
            local.stop()
            raise
    config = load_config(profile, overrides=overrides)
    if profile == "dev":
        start = datetime.now(UTC).replace(second=0, microsecond=0)
        return Launch(ApplicationContainer(config, clock=_paced(FastClock(start), config, pace_seconds)))
    return Launch(ApplicationContainer(config))


def _paced(clock: Clock, config: BotConfig, pace_seconds: float | None) -> Clock:
    if pace_seconds is None:  # real time: each cycle's sleep waits its interval on the wall, then moves the clock
        return PacedClock(clock, float(config.interval_seconds))
    return PacedClock(clock, pace_seconds) if pace_seconds > 0 else clock


def history_read_at_start(config: BotConfig, strategy: "Strategy | OrderStrategy | None" = None) -> timedelta:
    """How far back a bot of `config` reads bars at start: its strategy's warm-up with the volatility window,
    or its sizing seed (the regimes' history; Kelly's backtest), whichever is longer, in bars of its
    granularity."""
    from gpttrader.engine.history import seed_bars, warm_up_bars
    from gpttrader.risk.regime import RegimeSettings
    from gpttrader.strategy import build_strategy

    chosen = strategy or build_strategy(config.strategy.name, config.strategy.params)
    sizing = config.sizing
    seed = seed_bars(sizing, RegimeSettings.of(sizing).lookback, kelly=sizing.method == "kelly")
    bars = max(warm_up_bars(chosen.warmup, config.risk.volatility_window), seed)
    return config.strategy.granularity.width * bars


def state_dir(profile: str, overrides: Mapping[str, Any] | None = None) -> Path:
    """Where the profile keeps its stores (nothing there yet: the panel's first run)."""
    return load_config(profile, overrides=overrides).state_dir
