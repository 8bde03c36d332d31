"""The dev profile's market: the sandbox's ten spot listings on seeded synthetic one-minute paths, a day
of history before the clock's start and two days after it, and the paper account's starting cash."""

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from gpttrader.brokers.simulated import FeeSchedule, FillModel
from gpttrader.brokers.simulated.market import PricePathMarket
from gpttrader.brokers.simulated.paper import PaperBroker
from gpttrader.brokers.simulated.venue import VenueState
from gpttrader.config import BotConfig
from gpttrader.domain import Candle
from gpttrader.domain.symbols import unknown_message
from gpttrader.engine.listing import UnlistedSymbolError
from gpttrader.marketdata import SyntheticSpec, synthetic_candles
from gpttrader.sandbox.catalog import build_catalog
from gpttrader.store.venue import VenueStore

SEED = 20_251_124
HISTORY = timedelta(days=1)
HORIZON = timedelta(days=2)


def deterministic_broker(config: BotConfig, clock: Callable[[], datetime], books: VenueStore) -> PaperBroker:
    """`books` keeps the account between runs, so that a restarted dev bot reconciles against it."""
    start = clock().replace(second=0, microsecond=0) - HISTORY
    minutes = int((HISTORY + HORIZON).total_seconds() // 60)
    listings = {pid: listing for pid, listing in build_catalog(start).items() if not listing.product.is_derivative}
    for symbol in config.symbols:
        if symbol not in listings:
            raise UnlistedSymbolError(f"symbols: {unknown_message(symbol, listings, 'the dev market')}")
    candles = {}
    for index, pid in enumerate(sorted(config.symbols)):
        listing = listings[pid]
        spec = SyntheticSpec(pid, listing.start_price, base_volume=500_000 / listing.start_price)
        frame = synthetic_candles(spec, start, minutes, SEED + index)
        rows = zip(*(frame[c].tolist() for c in ("time", "open", "high", "low", "close", "volume")), strict=True)
        candles[pid] = [Candle(pid, t.to_pydatetime(), *(Decimal(repr(v)) for v in values)) for t, *values in rows]
    products = {pid: listings[pid].product for pid in config.symbols}
    saved = books.load()
    market = PricePathMarket(products, candles, clock)
    return PaperBroker(
        market,
        products,
        clock,
        balances={"USD": config.paper.starting_cash},
        model=FillModel(
            fees=FeeSchedule(config.paper.maker_fee_rate, config.paper.taker_fee_rate, f"profile {config.profile}")
        ),
        state=None if saved is None else VenueState.restore(saved),
        on_change=books.save,
        name="dev",
        stream=market.feed,
    )
