"""Build a sandbox from settings and serve it: in the foreground (the CLI) or in a thread (tests)."""

import asyncio
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
from aiohttp import web

from gpttrader.brokers.simulated import FeeSchedule
from gpttrader.marketdata import CandleFileError, SyntheticSpec, read_candle_file, synthetic_candles
from gpttrader.sandbox.catalog import Listing, build_catalog
from gpttrader.sandbox.exchange import Exchange
from gpttrader.sandbox.feed import FeedTiming
from gpttrader.sandbox.keys import SandboxKey, trusted_key_from_file
from gpttrader.sandbox.prices import MarketClock, PricePath
from gpttrader.sandbox.server import SandboxApi
from gpttrader.sandbox.tls import make_self_signed
from gpttrader.sandbox.walltime import WallTime

DEFAULT_BALANCES = {
    "USD": Decimal(100_000),
    "USDC": Decimal(100_000),
    "BTC": Decimal(1),
    "ETH": Decimal(10),
    "SOL": Decimal(100),
}


@dataclass(frozen=True)
class SandboxSettings:
    state_dir: Path
    key_files: tuple[Path, ...]
    view_only_key_files: tuple[Path, ...] = ()  # keys that may read but not trade (preflight's subject)
    host: str = "127.0.0.1"
    port: int = 0
    tls: bool = True
    derivatives_enabled: bool = False
    speed: float = 1.0
    # A virtual clock starting at this UNIX time, moved only by `RunningSandbox.advance_to` (tests that run
    # hours in seconds); None: the real clock.
    virtual_start: float | None = None
    seed: int = 7
    history_minutes: int = 2 * 1440
    horizon_minutes: int = 7 * 1440
    fees: FeeSchedule = field(default_factory=FeeSchedule)
    feed_timing: FeedTiming = field(default_factory=FeedTiming)
    # Spot product id -> a candles file to replay for that base currency (its futures and perpetuals too);
    # bases without a file get a seeded synthetic path.
    candle_files: dict[str, Path] = field(default_factory=dict)
    starting_balances: dict[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_BALANCES))


def build_exchange(settings: SandboxSettings, wall: WallTime) -> Exchange:
    started_at = wall.now()
    now = datetime.fromtimestamp(started_at, UTC)
    listings = build_catalog(now)
    first = now.replace(second=0, microsecond=0) - timedelta(minutes=settings.history_minutes)
    paths: dict[str, PricePath] = {}
    by_base: dict[str, PricePath] = {}
    for index, listing in enumerate(listings.values()):
        base = listing.product.base_currency
        if base not in by_base:
            by_base[base] = PricePath(
                _candles_for(settings, f"{base}-USD", listing, first, index),
                history_minutes=settings.history_minutes,
                origin_minute=int(first.timestamp()) // 60,
            )
        # Futures and perpetuals track their spot market (no basis), as the sandbox has no funding curve yet.
        paths[listing.product_id] = by_base[base]
    # The clock starts on the minute the history ends at, so that path minute N is wall minute N.
    clock = MarketClock(
        first.timestamp() + settings.history_minutes * 60, settings.history_minutes, settings.speed, wall
    )
    return Exchange(
        listings,
        paths,
        clock,
        derivatives_enabled=settings.derivatives_enabled,
        fees=settings.fees,
        starting_balances=dict(settings.starting_balances),
    )


def _candles_for(
    settings: SandboxSettings, spot_id: str, listing: Listing, first: datetime, index: int
) -> pd.DataFrame:
    """Replayed candles: the given file, or a seeded synthetic path with about $500k traded a minute."""
    path = settings.candle_files.get(spot_id)
    if path is not None:
        candles = read_candle_file(path)
        if len(candles) <= settings.history_minutes:
            raise CandleFileError(
                f"{path}: {len(candles)} candles; the sandbox needs more than "
                f"{settings.history_minutes} (its history) to replay"
            )
        return candles
    spec = SyntheticSpec(spot_id, listing.start_price, base_volume=500_000 / listing.start_price)
    return synthetic_candles(spec, first, settings.history_minutes + settings.horizon_minutes, settings.seed + index)


def load_keys(settings: SandboxSettings) -> dict[str, SandboxKey]:
    keys = [trusted_key_from_file(path) for path in settings.key_files]
    keys += [trusted_key_from_file(path, can_trade=False) for path in settings.view_only_key_files]
    return {key.name: key for key in keys}


def _ssl_context(settings: SandboxSettings) -> tuple[ssl.SSLContext | None, Path | None]:
    if not settings.tls:
        return None, None
    cert, key = make_self_signed(settings.state_dir)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context, cert


class RunningSandbox:
    """A sandbox serving on a background thread's event loop until `stop()`."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.wall = WallTime(settings.virtual_start)
        self.exchange = build_exchange(settings, self.wall)
        self._api = SandboxApi(self.exchange, load_keys(settings), settings.feed_timing)
        self._context, self.cert_path = _ssl_context(settings)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None
        self._error: BaseException | None = None
        self.port = 0
        self._thread = threading.Thread(target=self._serve, name="gpttrader-sandbox", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout=30):
            raise RuntimeError("the sandbox did not start within 30 s")
        if self._error is not None:
            raise self._error

    def advance_to(self, moment: datetime) -> None:
        """Move a virtual clock to `moment` and bring the exchange's orders up to it."""
        self.wall.advance_to(moment.timestamp())
        with self.exchange.lock:
            self.exchange.advance()

    @property
    def base_url(self) -> str:
        """Host and port as the SDK takes them (it adds https:// itself)."""
        return f"{self.settings.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"{'wss' if self.settings.tls else 'ws'}://{self.base_url}/ws"

    def drop_websockets(self) -> None:
        """Cut every feed connection abnormally (the admin API's drop_websocket, for in-process tests)."""
        self._loop.call_soon_threadsafe(self._api.drop_websockets)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        self._runner = web.AppRunner(self._api.application(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port, ssl_context=self._context)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    def stop(self) -> None:
        async def shutdown() -> None:
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()


def serve_forever(settings: SandboxSettings) -> None:
    """Serve in the foreground until interrupted (the `gpttrader sandbox` command)."""
    sandbox = RunningSandbox(settings)
    scheme = "https" if settings.tls else "http"
    print(f"sandbox listening on {scheme}://{sandbox.base_url}", flush=True)
    if sandbox.cert_path is not None:
        print(f"certificate: {sandbox.cert_path}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
