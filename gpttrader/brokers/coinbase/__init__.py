"""The Coinbase Advanced Trade broker on the official `coinbase-advanced-py` SDK."""

from gpttrader.brokers.coinbase.broker import CoinbaseBroker
from gpttrader.brokers.coinbase.factory import (
    create_coinbase_broker,
    create_market_data,
    create_rest_client,
    create_stream,
)
from gpttrader.brokers.coinbase.market_data import CoinbaseMarketData
from gpttrader.brokers.coinbase.streams import CoinbaseStream, StreamHealth

__all__ = [
    "CoinbaseBroker",
    "CoinbaseMarketData",
    "CoinbaseStream",
    "StreamHealth",
    "create_coinbase_broker",
    "create_market_data",
    "create_rest_client",
    "create_stream",
]
