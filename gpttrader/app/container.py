"""The one place where services are built from a BotConfig and wired together.

Each service is built on first use and then reused, so that a notebook asking only for the event store
never opens a broker connection, and two parts of the bot asking for the orders store share one.
"""

from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING

from gpttrader.config import BotConfig
from gpttrader.store import Database, EventStore, OrdersStore

if TYPE_CHECKING:
    from gpttrader.brokers.coinbase import CoinbaseBroker
    from gpttrader.engine import OrderExecutor
    from gpttrader.risk import LiveRiskManager


class ApplicationContainer:
    def __init__(self, config: BotConfig) -> None:
        self.config = config

    @cached_property
    def database(self) -> Database:
        return Database.for_state_dir(self.config.state_dir)

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

        return OrderExecutor(self.coinbase_broker, self.orders_store, self.event_store)

    @cached_property
    def risk_manager(self) -> "LiveRiskManager":
        """The profile's risk manager, journaling to (and reading its trading state back from) the event store."""
        from gpttrader.risk import LiveRiskManager

        preview = None
        if self.config.is_live and self.config.risk.use_order_preview:
            from gpttrader.engine.preview import venue_preview

            preview = venue_preview(self.coinbase_broker)
        return LiveRiskManager.from_config(self.config, self.event_store, preview=preview)

    def close(self) -> None:
        if "database" in self.__dict__:
            self.database.close()
            del self.__dict__["database"]
            for name in ("event_store", "orders_store", "order_executor", "risk_manager"):
                self.__dict__.pop(name, None)

    def __enter__(self) -> "ApplicationContainer":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
