"""Constants and config/session builders the engine's tests share against the sandbox exchange.

A helper module, not a test module: import from it freely. The `market` fixture (a sandbox whose virtual
clock starts at START) is in this directory's conftest.py.
"""

import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import SandboxClock
from gpttrader.config import BotConfig, load_config
from gpttrader.config.guards import Guards
from gpttrader.domain import OrderRequest, OrderType, ProductType, Side
from gpttrader.sandbox import RunningSandbox
from gpttrader.sandbox.catalog import build_catalog
from tests.integration.sandbox.conftest import sdk_client

START = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # the canary's trading window opens
API = "/api/v3/brokerage"
PID = "BTC-USD"
FUTURE = next(pid for pid, lst in build_catalog(START).items() if lst.product.product_type is ProductType.FUTURE)
CAP = Decimal("0.003")  # the quiet canary's BTC-USD cap (`canary`)
ROOMY_CAP = "5"  # the order-path canary's BTC-USD cap (`config`)
ROOMY: dict[str, Any] = {
    "max_position_size": {PID: ROOMY_CAP},
    "max_notional_per_position": 1_000_000,
    "max_exposure_fraction": "1",
    "max_position_fraction": "1",
}


def sandbox_env(sandbox: RunningSandbox, *, key: bool = True, **extra: str) -> dict[str, str]:
    """The environment that points a profile at `sandbox` (with its API key unless `key` is False)."""
    env = {"COINBASE_SANDBOX_URL": f"https://{sandbox.base_url}", "COINBASE_SANDBOX_CERT": str(sandbox.cert_path)}
    if key:
        env["COINBASE_KEY_FILE"] = str(sandbox.settings.key_files[0])
    return {**env, **extra}


def canary(sandbox: RunningSandbox, data: Path, **overrides: Any) -> BotConfig:
    """The quiet canary: every guard off, BTC-USD capped at CAP, the rate limits lifted."""
    quiet = {name: {"enabled": False} for name in Guards.model_fields}
    return load_config(
        "canary",
        overrides={
            "data_dir": data,
            "coinbase": {"private_requests_per_second": 1000, "public_requests_per_second": 1000, "websocket": False},
            "guards": quiet,
            "risk": {"max_position_size": {"BTC-USD": str(CAP)}},
            **overrides,
        },
        env=sandbox_env(sandbox),
    )


def guarded_canary(sandbox: RunningSandbox, data: Path, **overrides: Any) -> BotConfig:
    """The canary with its guards and risk limits as shipped, the rate limits lifted."""
    return load_config(
        "canary",
        overrides={
            "data_dir": data,
            "coinbase": {"private_requests_per_second": 1000, "public_requests_per_second": 1000, "websocket": False},
            **overrides,
        },
        env=sandbox_env(sandbox),
    )


def config(sandbox: RunningSandbox, data: Path, **overrides: Any) -> BotConfig:
    """The order-path tests' canary: guards off, roomy caps (ROOMY) and order limits; `overrides` merged in."""
    settings: dict[str, Any] = {
        "data_dir": data,
        "coinbase": {"private_requests_per_second": 1000, "public_requests_per_second": 1000, "websocket": False},
        "guards": {name: {"enabled": False} for name in Guards.model_fields},
        "order_limits": {"per_minute": 100, "per_hour": 1000, "per_day": 1000, "min_interval_seconds": 0},
        "risk": ROOMY,
        "sizing": {"method": "fixed_fraction", "fraction": "0.01"},
    }
    for key, value in overrides.items():
        settings[key] = {**settings[key], **value} if isinstance(settings.get(key), dict) else value
    return load_config("canary", overrides=settings, env=sandbox_env(sandbox))


def futures_config(sandbox: RunningSandbox, data: Path, contracts: str, **guards: Any) -> BotConfig:
    """The canary trading FUTURE alone, up to `contracts`, every guard off but `guards`."""
    return load_config(
        "canary",
        overrides={
            "data_dir": data,
            "symbols": [FUTURE],
            "risk": {
                "limits_file": None,
                "max_notional_per_position": None,
                "max_position_size": {FUTURE: contracts},
                "max_position_fraction": 1,
                "max_exposure_fraction": 1,
            },
            "sizing": {"method": "fixed_fraction", "fraction": 1},
            "guards": {**{name: {"enabled": False} for name in Guards.model_fields}, **guards},
            "coinbase": {"private_requests_per_second": 1000, "public_requests_per_second": 1000, "websocket": False},
        },
        env=sandbox_env(sandbox),
    )


def paper_config(sandbox: RunningSandbox, data: Path, **overrides: Any) -> BotConfig:
    """The paper profile on the sandbox's public market data (no key)."""
    env = sandbox_env(sandbox, key=False)
    return load_config(
        "paper",
        overrides={
            "data_dir": data,
            "symbols": ["BTC-USD", "ETH-USD", "SOL-USD"],
            "strategy": {"name": "ma_cross", "params": {"fast": 3, "slow": 8}},
            "sizing": {"fraction": "0.2"},
            "coinbase": {"public_requests_per_second": 1000, "websocket": False},  # the sandbox enforces no limit
            **overrides,
        },
        env=env,
    )


def mid(market: RunningSandbox) -> Decimal:
    return market.exchange.mid(PID)


def exchange_fills(sandbox: RunningSandbox) -> list[Any]:
    return sorted(
        sdk_client(sandbox).get_fills(product_ids=["BTC-USD"]).fills, key=lambda f: (f.trade_time, f.trade_id)
    )


def peak_position(sandbox: RunningSandbox) -> tuple[Decimal, Decimal]:
    """The highest and the final BTC position, replayed from the exchange's own fills in time order."""
    held = peak = Decimal(0)
    for fill in exchange_fills(sandbox):
        held += Decimal(fill.size) if fill.side == "BUY" else -Decimal(fill.size)
        peak = max(peak, held)
    return peak, held


def holding(sandbox: RunningSandbox, data: Path, *, size: str, resting: bool = False) -> str | None:
    """The canary bot's books with `size` BTC bought (and a resting sell far above the market); returns the
    resting order's client order id."""
    with ApplicationContainer(canary(sandbox, data), clock=SandboxClock(sandbox)) as container:
        executor = container.order_executor
        executor.submit(OrderRequest("setup-buy", "BTC-USD", Side.BUY, OrderType.MARKET, Decimal(size)))
        if not resting:
            return None
        far = OrderRequest("setup-rest", "BTC-USD", Side.SELL, OrderType.LIMIT, Decimal("0.0001"), Decimal(900_000))
        executor.submit(far)
        return far.client_order_id


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gpttrader.app.cli", *args], env=env, capture_output=True, text=True, timeout=240
    )


def kill_env(sandbox: RunningSandbox, data: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("COINBASE_", "GPTTRADER_"))}
    return {**base, **sandbox_env(sandbox), "GPTTRADER_DATA_DIR": str(data)}
