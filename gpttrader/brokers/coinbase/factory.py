"""Build a CoinbaseBroker from a BotConfig: keys passed explicitly, sandbox or production endpoint."""

from collections.abc import Callable
from urllib.parse import urlsplit

from coinbase.rest import RESTClient

from gpttrader.brokers.coinbase.broker import CoinbaseBroker
from gpttrader.brokers.coinbase.market_data import CoinbaseMarketData
from gpttrader.brokers.coinbase.ratelimit import TokenBucket
from gpttrader.brokers.coinbase.streams import CoinbaseStream
from gpttrader.brokers.coinbase.transport import trust_certificate
from gpttrader.brokers.errors import AuthenticationError
from gpttrader.config import BotConfig
from gpttrader.domain.stream import StreamEvent

PRODUCTION_HOST = "api.coinbase.com"
PRODUCTION_WS = "wss://advanced-trade-ws.coinbase.com"


def rest_host(config: BotConfig) -> str:
    """host[:port] for the SDK, which adds https:// itself."""
    url = config.coinbase.sandbox_url
    return urlsplit(url).netloc if url else PRODUCTION_HOST


def ws_url(config: BotConfig) -> str:
    """The feed's URL: the sandbox's /ws path, or Coinbase's Advanced Trade feed."""
    url = config.coinbase.sandbox_url
    if not url:
        return PRODUCTION_WS
    parts = urlsplit(url)
    scheme = "wss" if parts.scheme in ("https", "wss") else "ws"
    return f"{scheme}://{parts.netloc}/ws"


def create_stream(
    config: BotConfig,
    *,
    on_event: Callable[[StreamEvent], None],
    heartbeat_timeout: float = 10.0,
) -> CoinbaseStream:
    """The profile's feed (the sandbox's or Coinbase's), delivering typed events to `on_event`."""
    return CoinbaseStream(
        ws_url(config),
        config.credentials,
        on_event=on_event,
        certificate=config.coinbase.sandbox_certificate,
        heartbeat_timeout=heartbeat_timeout,
    )


def create_rest_client(config: BotConfig, *, timeout: int = 10) -> RESTClient:
    credentials = config.credentials
    if credentials is None:
        raise AuthenticationError(
            "no Coinbase credentials: set COINBASE_API_KEY and COINBASE_API_SECRET, or COINBASE_KEY_FILE"
        )
    host = rest_host(config)
    # Keys are passed explicitly: the SDK reads its own env-var defaults at import time, not at call time.
    client = RESTClient(
        api_key=credentials.api_key.reveal(), api_secret=credentials.api_secret.reveal(), base_url=host, timeout=timeout
    )
    if config.coinbase.sandbox_certificate is not None:
        trust_certificate(client.session, host, config.coinbase.sandbox_certificate)
    return client


def create_coinbase_broker(config: BotConfig) -> CoinbaseBroker:
    limits = config.coinbase
    return CoinbaseBroker(
        create_rest_client(config),
        derivatives_enabled=config.derivatives_enabled,
        private_limit=TokenBucket(limits.private_requests_per_second),
        public_limit=TokenBucket(limits.public_requests_per_second),
        streams=lambda on_event: create_stream(config, on_event=on_event),
    )


def create_market_data(config: BotConfig, *, timeout: int = 10) -> CoinbaseMarketData:
    """Public market data with no key: what paper trading needs from Coinbase (or from the sandbox)."""
    host = rest_host(config)
    client = RESTClient(base_url=host, timeout=timeout)
    if config.coinbase.sandbox_certificate is not None:
        trust_certificate(client.session, host, config.coinbase.sandbox_certificate)
    return CoinbaseMarketData(client, limit=TokenBucket(config.coinbase.public_requests_per_second))
