"""One sandbox for the whole contract table, holding what every row reads: a filled market buy, a resting
limit order, a perpetual-style future, a monthly future, an INTX perpetual and a pending sweep."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from coinbase.rest import RESTClient

from gpttrader.brokers.coinbase.transport import trust_certificate
from gpttrader.sandbox import RunningSandbox, SandboxSettings, generate_key_file
from tests.integration.sandbox.conftest import sdk_client

OPENED = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)  # a Tuesday: the futures sessions are open
FUTURE = "BIP-20DEC30-CDE"
PERPETUAL = "BTC-PERP-INTX"


@dataclass(frozen=True)
class Venue:
    sandbox: RunningSandbox
    client: RESTClient  # keyed, as the broker builds it (factory.create_rest_client)
    public: RESTClient  # no key, as the market data reader builds it (factory.create_market_data)
    resting_order_id: str
    intx_portfolio: str


@pytest.fixture(scope="package")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venue]:
    # Package-scoped (the shared `start_sandbox` is per test): the table's rows all read one venue's state.
    root = tmp_path_factory.mktemp("contract")
    generate_key_file(root / "key.json")
    sandbox = RunningSandbox(
        SandboxSettings(
            state_dir=root / "sandbox",
            key_files=(root / "key.json",),
            speed=0.0,
            derivatives_enabled=True,
            virtual_start=OPENED.timestamp(),
        )
    )
    try:
        client = sdk_client(sandbox)
        public = RESTClient(base_url=sandbox.base_url, timeout=10)
        assert sandbox.cert_path is not None
        trust_certificate(public.session, sandbox.base_url, sandbox.cert_path)
        assert client.market_order_buy(client_order_id="c-buy", product_id="BTC-USD", base_size="0.01").success
        assert client.market_order_buy(client_order_id="c-quote", product_id="ETH-USD", quote_size="100").success
        resting = client.limit_order_gtc_sell(
            client_order_id="c-rest", product_id="BTC-USD", base_size="0.005", limit_price="999999.00"
        )
        for n, (product_id, size) in enumerate(((FUTURE, "2"), (PERPETUAL, "0.01"))):
            assert client.market_order_buy(client_order_id=f"c-d{n}", product_id=product_id, base_size=size).success
        assert client.schedule_futures_sweep("10").success
        intx = client.get_portfolios(portfolio_type="INTX").portfolios[0].uuid
        yield Venue(sandbox, client, public, resting.success_response["order_id"], intx)
    finally:
        sandbox.stop()
