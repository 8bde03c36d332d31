"""Strategies the engine's tests share."""

from dataclasses import dataclass

from gpttrader.strategy import Bar, OrderIntent


@dataclass(frozen=True)
class Quiet:
    """Decides nothing: the tests hand the bot its decisions, or look at what it reads rather than trades."""

    name: str = "quiet"
    warmup: int = 1

    def new_state(self) -> None:
        return None

    def on_bar(self, bar: Bar, state: None) -> tuple[OrderIntent, ...]:
        return ()
