"""The one place where services are built from a BotConfig and wired together.

Each service is built on first use and then reused, so that a notebook asking only for the event store
never opens a broker connection, and two parts of the bot asking for the orders store share one.
"""

from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from gpttrader.app.profile_lock import KILL_LOCK_FILE, ProfileLock, SendGate, hold_profile
from gpttrader.config import BotConfig, load_config
from gpttrader.store import DATABASE_FILE, Database, EventStore, OrdersStore
from gpttrader.store.backup import BackupSchedule
from gpttrader.store.integrity import known_stores, open_store
from gpttrader.store.venue import VENUE_FILE, VenueStore

if TYPE_CHECKING:
    from gpttrader.brokers.coinbase import CoinbaseBroker
    from gpttrader.brokers.protocol import Broker
    from gpttrader.brokers.simulated import FeeSchedule
    from gpttrader.brokers.simulated.paper import PaperBroker
    from gpttrader.engine import OrderExecutor
    from gpttrader.engine.bot import TradingBot
    from gpttrader.engine.clock import Clock
    from gpttrader.marketdata.cache import CandleCache
    from gpttrader.monitoring import BotMetrics
    from gpttrader.risk import LiveRiskManager
    from gpttrader.strategy import OrderStrategy, Strategy


class ApplicationContainer:
    def __init__(self, config: BotConfig, *, clock: "Clock | None" = None) -> None:
        self.config = config
        self._clock = clock
        self._lock: ProfileLock | None = None
        self._backups: BackupSchedule | None = None

    def claim(self, holder: str) -> None:
        """Make this container the one that trades its profile, until it closes: the profile's lock (or
        ProfileLockedError, naming the holder), the profile's stores checked (or DamagedStoreError), and
        their backups on the configured interval and at close. Read-only uses never claim."""
        self._lock = hold_profile(self.config.state_dir, holder)
        self.stores()
        self._backups = BackupSchedule(self._open_stores, self.config.store_backup_interval_seconds)
        self._backups.start()

    def stores(self) -> list[Database]:
        """The profile's stores that exist (or were lost: refused), each opened and so checked."""
        return [self._store(name) for name in known_stores(self.config.state_dir)]

    @cached_property
    def clock(self) -> "Clock":
        from gpttrader.engine.clock import WallClock

        return self._clock or WallClock()

    @cached_property
    def broker(self) -> "Broker":
        """The profile's broker: deterministic (dev), paper, or Coinbase."""
        if self.config.broker == "deterministic":
            from gpttrader.app.dev_market import deterministic_broker

            return deterministic_broker(self.config, self.clock.now, VenueStore(self.venue_database, "dev"))
        if self.config.broker == "coinbase":
            return self.coinbase_broker
        return self.paper_broker

    @cached_property
    def paper_broker(self) -> "PaperBroker":
        """Simulated fills on Coinbase's public market data (or the sandbox's), with books kept between runs."""
        from gpttrader.brokers.coinbase import create_market_data, create_stream
        from gpttrader.brokers.simulated import FillModel
        from gpttrader.brokers.simulated.paper import PaperBroker
        from gpttrader.brokers.simulated.venue import VenueState
        from gpttrader.engine.listing import listed_products

        market = create_market_data(self.config)
        products = listed_products(market, self.config.symbols)
        books = VenueStore(self.venue_database, "paper")
        # Perpetuals are margined in USDC: a paper account that may trade them gets the same in USDC.
        currencies = ("USD", "USDC") if self.config.derivatives_enabled else ("USD",)
        saved = books.load()
        return PaperBroker(
            market,
            products,
            self.clock.now,
            balances=dict.fromkeys(currencies, self.config.paper.starting_cash),
            model=FillModel(fees=self.fee_schedule),
            state=None if saved is None else VenueState.restore(saved),
            on_change=books.save,
            # Its market's ticker, when the WebSocket is on (its own orders' events stream either way).
            stream=(lambda on_event: create_stream(self.config, on_event=on_event))
            if self.config.coinbase.websocket
            else None,
        )

    def create_bot(
        self,
        strategy: "Strategy | OrderStrategy | None" = None,
        *,
        run_id: str | None = None,
        monitor: "BotMetrics | None" = None,
    ) -> "TradingBot":
        """The trading bot of this profile, on this container's broker, stores, risk manager and clock."""
        from gpttrader.engine.bot import TradingBot
        from gpttrader.strategy import build_strategy

        chosen = strategy or build_strategy(self.config.strategy.name, self.config.strategy.params)
        retry = getattr(self.broker, "retry", None)
        return TradingBot(
            config=self.config,
            broker=self.broker,
            strategy=chosen,
            risk=self.risk_manager,
            orders=self.orders_store,
            events=self.event_store,
            clock=self.clock,
            fee_rate=self.fee_schedule.taker,  # until the first cycle reads the broker's (the account's tier)
            retries=(lambda: retry.retries) if retry is not None else (lambda: 0),
            rate_limited=retry.rate_limited if retry is not None else (lambda: 0),
            run_id=run_id,
            # A simulated venue streams its orders' events itself; Coinbase's only come by its WebSocket.
            stream=self.broker.stream if self.config.broker != "coinbase" or self.config.coinbase.websocket else None,
            channels=("ticker", "user"),
            monitor=monitor,
            kill_lock=self.kill_lock,
            send_gate=SendGate(self.config.state_dir),
            # The profile as it would load now, in this data directory: what a reload compares and takes.
            reload_config=lambda: load_config(self.config.profile, overrides={"data_dir": self.config.data_dir}),
            candle_cache=self.candle_cache,
        )

    @cached_property
    def candle_cache(self) -> "CandleCache":
        """The parquet cache of the candles of the venue this profile's bot trades on (Coinbase's, a
        sandbox's or the dev market's), which its start reads through."""
        from gpttrader.marketdata.cache import CandleCache, venue

        return CandleCache.of(self.config.data_dir, venue(self.config))

    @cached_property
    def fee_schedule(self) -> "FeeSchedule":
        """The profile's fee rates (`paper.maker_fee_rate`, `paper.taker_fee_rate`): what the dev and paper
        venues charge. A live bot prices with its Coinbase account's tier, read at its first cycle."""
        from gpttrader.brokers.simulated import FeeSchedule

        paper = self.config.paper
        return FeeSchedule(paper.maker_fee_rate, paper.taker_fee_rate, f"profile {self.config.profile}")

    def kill_lock(self, wait: float) -> ProfileLock:
        """The kill switch's own lock, taken within `wait` seconds: a second kill (the panel's, the command
        line's) waits its turn."""
        return hold_profile(self.config.state_dir, "a kill switch", lock_file=KILL_LOCK_FILE, wait=wait)

    @cached_property
    def database(self) -> Database:
        return open_store(self.config.state_dir, DATABASE_FILE)

    @cached_property
    def venue_database(self) -> Database:
        """The simulated exchange's own books (dev and paper), apart from the bot's state."""
        return open_store(self.config.state_dir, VENUE_FILE)

    def _store(self, name: str) -> Database:
        return self.venue_database if name == VENUE_FILE else self.database

    def _open_stores(self) -> list[Path]:
        """The stores opened so far (checked): what the backup thread copies; it never opens one itself."""
        return [self.__dict__[name].path for name in ("database", "venue_database") if name in self.__dict__]

    @cached_property
    def event_store(self) -> EventStore:
        return EventStore(self.database)

    @cached_property
    def orders_store(self) -> OrdersStore:
        return OrdersStore(self.database)

    @cached_property
    def coinbase_broker(self) -> "CoinbaseBroker":
        # Imported here so that a container used only for its stores never loads the Coinbase SDK.
        from gpttrader.brokers.coinbase import create_coinbase_broker

        return create_coinbase_broker(self.config)

    @cached_property
    def order_executor(self) -> "OrderExecutor":
        from gpttrader.engine import OrderExecutor

        return OrderExecutor(self.broker, self.orders_store, self.event_store)

    @cached_property
    def risk_manager(self) -> "LiveRiskManager":
        """The profile's risk manager, journaling to (and reading its trading state back from) the event store."""
        from gpttrader.risk import LiveRiskManager

        preview = None
        if self.config.is_live and self.config.risk.use_order_preview:
            from gpttrader.engine.preview import venue_preview

            preview = venue_preview(self.coinbase_broker)
        from gpttrader.backtest.seed import seed_trips

        manager = LiveRiskManager.from_config(self.config, self.event_store, preview=preview, clock=self.clock.now)
        manager.edge_seed = seed_trips  # the start's seed backtest: the engine may not import the backtest
        return manager

    def close(self) -> None:
        if self._backups is not None:
            self._backups.stop()  # the last backup, of the stores as the session leaves them
            self._backups = None
        for name in ("database", "venue_database"):
            if name in self.__dict__:
                self.__dict__.pop(name).close()
        for name in ("event_store", "orders_store", "order_executor", "risk_manager", "broker", "paper_broker"):
            self.__dict__.pop(name, None)
        if self._lock is not None:  # last: no other bot may open the stores before they are closed
            self._lock.release()
            self._lock = None

    def __enter__(self) -> "ApplicationContainer":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
