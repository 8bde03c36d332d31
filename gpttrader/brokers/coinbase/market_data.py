"""Coinbase's public market data, which needs no key: products, the top of the book and candles.

The paper broker's market (on real Coinbase or the sandbox) and the source of the Coinbase broker's
candles. Public endpoints have their own rate limit (10 requests a second) and are cached by Coinbase for
about a second, which a one-minute bot does not notice.
"""

from datetime import datetime

from coinbase.rest import RESTClient

from gpttrader.brokers.coinbase import mapping
from gpttrader.brokers.coinbase.ratelimit import TokenBucket
from gpttrader.brokers.coinbase.retry import RetryPolicy, guarded
from gpttrader.domain import Candle, Granularity, Product, Quote

MAX_CANDLES = 350


class CoinbaseMarketData:
    def __init__(
        self, client: RESTClient, *, retry: RetryPolicy | None = None, limit: TokenBucket | None = None
    ) -> None:
        self._client = client
        self.retry = retry or RetryPolicy()
        self._limit = limit or TokenBucket(10)
        self._catalog: dict[str, Product] = {}

    def products(self) -> list[Product]:
        data = mapping.as_dict(
            guarded(self._client.get_public_products, bucket=self._limit, retry=self.retry, what="public products")
        )
        with mapping.reading("public products"):
            products = [mapping.product(p) for p in mapping.items(data, "products", "public products")]
        self._catalog.update({p.product_id: p for p in products})
        return products

    def product(self, product_id: str) -> Product:
        known = self._catalog.get(product_id)
        if known is not None:
            return known
        data = mapping.as_dict(
            guarded(
                lambda: self._client.get_public_product(product_id),
                bucket=self._limit,
                retry=self.retry,
                what=f"public product {product_id}",
            )
        )
        with mapping.reading("public product"):
            self._catalog[product_id] = found = mapping.product(data)
        return found

    def quote(self, product_id: str) -> Quote:
        data = mapping.as_dict(
            guarded(
                lambda: self._client.get_public_product_book(product_id, limit=1),
                bucket=self._limit,
                retry=self.retry,
                what=f"public book {product_id}",
            )
        )
        with mapping.reading("public book"):
            return mapping.top_of_book(product_id, mapping.field(data, "pricebook", "public book"))

    def server_time(self) -> datetime:
        data = mapping.as_dict(
            guarded(self._client.get_unix_time, bucket=self._limit, retry=self.retry, what="server time")
        )
        with mapping.reading("server time"):
            return mapping.timestamp(mapping.field(data, "iso", "server time"), "server time")

    def candles(self, product_id: str, granularity: Granularity, start: datetime, end: datetime) -> list[Candle]:
        """One window of candles (at most 350), oldest first."""
        count = int((end - start).total_seconds() // granularity.seconds)
        if count > MAX_CANDLES:
            raise ValueError(f"{count} candles asked for; Coinbase answers at most {MAX_CANDLES} a request")
        response = guarded(
            lambda: self._client.get_public_candles(
                product_id,
                start=str(int(start.timestamp())),
                end=str(int(end.timestamp())),
                granularity=granularity.value,
            ),
            bucket=self._limit,
            retry=self.retry,
            what=f"candles {product_id}",
        )
        with mapping.reading("candles"):
            rows = [
                mapping.candle(product_id, c) for c in mapping.items(mapping.as_dict(response), "candles", "candles")
            ]
        return sorted(rows, key=lambda c: c.time)
