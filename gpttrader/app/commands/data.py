"""`gpttrader data`: candles downloaded into the parquet cache ahead of research (`download`), and what the
cache holds (`list`).

The cache is the one the research notebook's `coinbase` source fills and its `cache` source reads: the
profile's market data's (Coinbase's public candles, or the sandbox's at COINBASE_SANDBOX_URL, each under its
own venue). A download asks only for what the cache does not cover, and the cache is saved every few
windows, so an interrupted download resumes where it stopped when run again.
"""

import argparse
import sys

from gpttrader.app.arguments import date_arg, granularity, product_id
from gpttrader.domain import Granularity


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    data = commands.add_parser("data", help="download candles into the cache, list what is cached")
    actions = data.add_subparsers(title="actions", metavar="ACTION", required=True)
    download = actions.add_parser(
        "download", help="fetch candles into the cache (only what it lacks), with a progress bar"
    )
    download.add_argument(
        "--product",
        action="append",
        type=product_id,
        dest="products",
        required=True,
        metavar="ID",
        help="e.g. BTC-USD (btc-usd, BTC/USD, BTCUSD read the same); repeat for several",
    )
    download.add_argument(
        "--granularity",
        type=granularity,
        default=Granularity.ONE_HOUR,
        help="candle width, e.g. FIFTEEN_MINUTE or 900 (default ONE_HOUR)",
    )
    download.add_argument("--start", type=date_arg, required=True, help="first day, e.g. 2025-01-01 (UTC)")
    download.add_argument("--end", type=date_arg, required=True, help="the day after the last, e.g. 2025-07-01")
    download.set_defaults(run=_download)
    listing = actions.add_parser("list", help="what the cache holds: product, granularity, first, last, rows")
    listing.set_defaults(run=_list)


def _download(args: argparse.Namespace) -> int:
    from gpttrader.brokers.coinbase import create_market_data
    from gpttrader.config import load_config
    from gpttrader.config.redaction import configure_logging
    from gpttrader.marketdata import CandleCache, fetch_candles
    from gpttrader.marketdata.cache import market_venue

    start, end = args.start, args.end
    if start >= end:
        print(f"gpttrader: error: --start {start:%Y-%m-%d} must be before --end {end:%Y-%m-%d}", file=sys.stderr)
        return 2
    configure_logging("WARNING")  # the fetch's warning about gaps in the candles
    config = load_config(None)
    venue = market_venue(config)
    cache = CandleCache.of(config.data_dir, venue)
    market = create_market_data(config)
    grain: Granularity = args.granularity
    for product in args.products:
        result = fetch_candles(market, product, grain, start, end, cache=cache)
        candles = result.candles
        held = f"{product} {grain.value}: {len(candles)} candles cached"
        if not candles.empty:
            held += f" from {candles['time'].iloc[0].isoformat()} to {candles['time'].iloc[-1].isoformat()}"
        plural = "" if result.requests == 1 else "s"
        done = f"fetched {result.fetched} in {result.requests} request{plural}" if result.requests else "already cached"
        gaps = f"; {len(result.gaps)} gaps (hours without trades, or not served)" if result.gaps else ""
        print(f"{held} ({venue}); {done}{gaps}")
    print(f"cache: {cache.root}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from gpttrader.config import load_config
    from gpttrader.marketdata import CandleCache

    root = load_config(None).data_dir / "cache" / "candles"
    rows = []
    for path in sorted(root.glob("*/*/*.parquet")):
        venue, product = path.parent.parent.name, path.parent.name
        grain = Granularity.parse(path.stem)
        candles = CandleCache.of(root.parent.parent, venue).read(product, grain)
        if not candles.empty:
            first, last = (candles["time"].iloc[index].isoformat() for index in (0, -1))
            rows.append((venue, product, grain.value, first, last, str(len(candles))))
    if not rows:
        print(f"nothing cached under {root}; `gpttrader data download --help` fills it")
        return 0
    header = ("venue", "product", "granularity", "first", "last", "rows")
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0
