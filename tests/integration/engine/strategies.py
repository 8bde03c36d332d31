"""Strategies the engine's tests share."""

from dataclasses import dataclass
from datetime import timedelta

from gpttrader.domain import Side
from gpttrader.strategy import Bar, OrderIntent
from tests.integration.engine.dev_sessions import START as DEV_START


@dataclass(frozen=True)
class Quiet:
    """Decides nothing: the tests hand the bot its decisions, or look at what it reads rather than trades."""

    name: str = "quiet"
    warmup: int = 1

    def new_state(self) -> None:
        return None

    def on_bar(self, bar: Bar, state: None) -> tuple[OrderIntent, ...]:
        return ()


@dataclass(frozen=True)
class BuyEveryBar:
    """Buys every product it is given, every bar, sized by the profile."""

    name: str = "buy_every_bar"
    warmup: int = 1

    def new_state(self) -> None:
        return None

    def on_bar(self, bar: Bar, state: None) -> tuple[OrderIntent, ...]:
        return (OrderIntent(bar.product_id, Side.BUY),)


@dataclass(frozen=True)
class BuyBtcEveryBar:
    """Buys a tenth of what it may of BTC-USD every bar; nothing else (the dev bot's tests)."""

    name: str = "buy_every_bar"
    warmup: int = 1

    def new_state(self) -> None:
        return None

    def on_bar(self, bar: Bar, state: None) -> tuple[OrderIntent, ...]:
        return (OrderIntent(bar.product_id, Side.BUY, fraction=0.1),) if bar.product_id == "BTC-USD" else ()


@dataclass
class _Bought:
    done: bool = False


@dataclass(frozen=True)
class BuyOnce:
    """Buys BTC at market on the first bar from 09:02 on that it sees (after a restart: again), nothing more."""

    name: str = "buy_once"
    warmup: int = 1

    def new_state(self) -> _Bought:
        return _Bought()

    def on_bar(self, bar: Bar, state: _Bought) -> tuple[OrderIntent, ...]:
        if state.done or bar.product_id != "BTC-USD" or bar.time < DEV_START + timedelta(minutes=2):
            return ()
        state.done = True
        return (OrderIntent(bar.product_id, Side.BUY),)
