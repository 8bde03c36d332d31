"""What market data needs from a broker to fetch history; the Coinbase broker provides it.

Declared here, by its user, so that market data depends on no broker: the container hands any object
with this method to `fetch_candles`.
"""

from datetime import datetime
from typing import Protocol

from gpttrader.domain import Candle, Granularity


class CandleSource(Protocol):
    def candles(self, product_id: str, granularity: Granularity, start: datetime, end: datetime) -> list[Candle]: ...
