"""The one place where services are built from a BotConfig and wired together.

Each service is built on first use and then reused, so that a notebook asking only for the event store
never opens a broker connection, and two parts of the bot asking for the orders store share one.
"""

from functools import cached_property
from types import TracebackType

from gpttrader.brokers.coinbase import CoinbaseBroker, create_coinbase_broker
from gpttrader.config import BotConfig
from gpttrader.engine import OrderExecutor
from gpttrader.store import Database, EventStore, OrdersStore


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
    def coinbase_broker(self) -> CoinbaseBroker:
        return create_coinbase_broker(self.config)

    @cached_property
    def order_executor(self) -> OrderExecutor:
        return OrderExecutor(self.coinbase_broker, self.orders_store, self.event_store)

    def close(self) -> None:
        if "database" in self.__dict__:
            self.database.close()
            del self.__dict__["database"]
            for name in ("event_store", "orders_store", "order_executor"):
                self.__dict__.pop(name, None)

    def __enter__(self) -> "ApplicationContainer":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
