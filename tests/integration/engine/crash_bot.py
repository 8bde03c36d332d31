"""A canary bot against a sandbox on a virtual clock, run as its own process by the crash tests: with
`--crash POINT` it kills itself with SIGKILL the first time its order path reaches that point; the fault
suite kills it from outside."""

import argparse
import json
import os
import signal
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from gpttrader.app import ApplicationContainer
from gpttrader.app.sandbox_clock import RemoteSandboxClock
from gpttrader.brokers.coinbase import CoinbaseBroker
from gpttrader.config import BotConfig, load_config
from gpttrader.config.guards import Guards
from gpttrader.domain import OrderStatus
from gpttrader.engine.execution import OrderExecutor
from gpttrader.store import OrdersStore


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def wrap(owner: type, name: str, around: Callable[..., Any]) -> None:
    real = getattr(owner, name)
    setattr(owner, name, lambda self, *a, **k: around(real, self, *a, **k))


def before(real: Callable[..., Any], self: Any, *args: Any, **kwargs: Any) -> Any:
    die()


def after(real: Callable[..., Any], self: Any, *args: Any, **kwargs: Any) -> Any:
    real(self, *args, **kwargs)
    die()


def on_status(status: OrderStatus) -> Callable[..., Any]:
    def around(real: Callable[..., Any], self: Any, cid: str, new: OrderStatus, **kwargs: Any) -> Any:
        result = real(self, cid, new, **kwargs)
        if new is status:
            die()
        return result

    return around


def after_first_fill(real: Callable[..., Any], self: Any, *args: Any, **kwargs: Any) -> Any:
    added = real(self, *args, **kwargs)
    if added:
        die()
    return added


POINTS: dict[str, Callable[[], None]] = {
    "before_send": lambda: wrap(CoinbaseBroker, "place_order", before),  # the intent is stored PENDING
    "after_send": lambda: wrap(CoinbaseBroker, "place_order", after),  # at the exchange, not acknowledged
    "after_ack": lambda: wrap(OrdersStore, "transition", on_status(OrderStatus.OPEN)),
    "mid_fills": lambda: wrap(OrdersStore, "add_fill", after_first_fill),  # one fill of several recorded
    "after_submit": lambda: wrap(OrderExecutor, "submit", after),  # recorded, not yet in the bot's books
}


def canary_config(data: Path, url: str, cert: Path, key: Path, *, websocket: bool = False) -> BotConfig:
    """The canary profile with a strategy that trades every few bars, at the position cap, with no guards or
    order limits to stop it and no trading window, so that a fault suite can run it for virtual hours."""
    return load_config(
        "canary",
        overrides={
            "data_dir": data,
            "strategy": {"name": "ma_cross", "params": {"fast": 2, "slow": 3}},
            "sizing": {"method": "fixed_fraction", "fraction": "1"},
            "risk": {
                "limits_file": None,
                "max_notional_per_position": None,
                "max_position_size": {"BTC-USD": "0.5"},  # walks several levels of the book: several fills
                "max_position_fraction": "1",
                "max_exposure_fraction": "1",
            },
            "guards": {name: {"enabled": False} for name in Guards.model_fields},
            "order_limits": {"per_minute": 1000, "per_hour": 1000, "per_day": 1000, "min_interval_seconds": 0},
            "trading_window": None,
            "coinbase": {
                "public_requests_per_second": 1000,
                "private_requests_per_second": 1000,
                "websocket": websocket,
            },
        },
        env={"COINBASE_SANDBOX_URL": url, "COINBASE_SANDBOX_CERT": str(cert), "COINBASE_KEY_FILE": str(key)},
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--cert", type=Path, required=True)
    parser.add_argument("--key", type=Path, required=True)
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--crash", choices=sorted(POINTS))
    parser.add_argument("--websocket", action="store_true", help="the WebSocket feed, for dropped-socket faults")
    args = parser.parse_args()
    config = canary_config(args.data, args.url, args.cert, args.key, websocket=args.websocket)
    if args.crash:
        POINTS[args.crash]()
    with ApplicationContainer(config, clock=RemoteSandboxClock(args.url, args.cert)) as container:
        bot = container.create_bot()
        report = bot.bootstrap()
        bot.run(max_cycles=args.cycles)
        summary = bot.shutdown()
    print(json.dumps({"summary": asdict(summary), "reconcile": report.as_dict()}, default=str))


if __name__ == "__main__":
    main()
