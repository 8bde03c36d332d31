"""The Coinbase Advanced Trade broker on the official `coinbase-advanced-py` SDK."""

from gpttrader.brokers.coinbase.broker import CoinbaseBroker
from gpttrader.brokers.coinbase.factory import create_coinbase_broker, create_rest_client, create_stream
from gpttrader.brokers.coinbase.streams import CoinbaseStream, StreamHealth

__all__ = [
    "CoinbaseBroker",
    "CoinbaseStream",
    "StreamHealth",
    "create_coinbase_broker",
    "create_rest_client",
    "create_stream",
]
