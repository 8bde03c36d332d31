"""`gpttrader backtest`: a strategy on candles, its metrics printed and an HTML report written."""

import argparse
import sys
from datetime import UTC, datetime
from decimal import Decimal

from gpttrader.app.arguments import (
    MAX_AMOUNT,
    MAX_SLIPPAGE_BPS,
    amount,
    date_arg,
    fee_rate,
    granularity,
    key_value,
    output_file,
    product_id,
    slippage_bps,
)
from gpttrader.backtest import run_backtest
from gpttrader.brokers.simulated import FeeSchedule, FillModel
from gpttrader.config import PROFILE_NAMES, load_config
from gpttrader.config.redaction import configure_logging
from gpttrader.domain import Granularity
from gpttrader.domain.events import EventType
from gpttrader.domain.symbols import SymbolError
from gpttrader.domain.symbols import require_listed as require_symbols_listed
from gpttrader.domain.values import MAX_FEE_RATE
from gpttrader.marketdata import CandleFileError, load_candles
from gpttrader.marketdata.cache import CandleCache, market_venue
from gpttrader.marketdata.samples import SAMPLES
from gpttrader.reports import write_html
from gpttrader.risk import LiveRiskManager, MemoryJournal
from gpttrader.strategy import STRATEGIES, resolve_strategy


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    backtest = commands.add_parser("backtest", help="backtest a strategy and write an HTML report")
    backtest.add_argument(
        "--strategy",
        required=True,
        help=f"one of {', '.join(STRATEGIES)}, or your own as module:Class (the module importable from the "
        "current directory, e.g. my_strategy:Momentum; --param values go to its constructor)",
    )
    backtest.add_argument(
        "--product",
        action="append",
        type=product_id,
        dest="products",
        required=True,
        metavar="ID",
        help="product to trade, e.g. BTC-USD (btc-usd, BTC/USD, BTCUSD read the same; repeat for a portfolio on "
        "one cash balance)",
    )
    backtest.add_argument(
        "--granularity",
        type=granularity,
        default=Granularity.ONE_HOUR,
        help="candle width, e.g. FIFTEEN_MINUTE or 900 (default ONE_HOUR)",
    )
    backtest.add_argument("--start", type=date_arg, help="first day, YYYY-MM-DD (UTC)")
    backtest.add_argument("--end", type=date_arg, help="day after the last, YYYY-MM-DD (UTC)")
    backtest.add_argument("--source", default="sample", help="sample (default), cache, or a parquet/CSV path")
    backtest.add_argument(
        "--param",
        action="append",
        default=[],
        type=key_value,
        metavar="NAME=VALUE",
        help="strategy parameter, e.g. fast=10 (repeatable)",
    )
    backtest.add_argument(
        "--fee",
        type=fee_rate,
        help=f"fee per side (maker and taker), a fraction from 0 to {MAX_FEE_RATE} (default: the profile's "
        "paper.maker_fee_rate and paper.taker_fee_rate, those of --risk's profile when given)",
    )
    backtest.add_argument(
        "--slippage-bps", type=slippage_bps, default=Decimal(0), help=f"0 to {MAX_SLIPPAGE_BPS} (default 0)"
    )
    backtest.add_argument(
        "--cash", type=amount, default=Decimal(1_000_000), help=f"starting cash, at most {MAX_AMOUNT} (default 1000000)"
    )
    backtest.add_argument(
        "--risk",
        metavar="PROFILE",
        choices=PROFILE_NAMES,
        help="check every order and run the guards with this profile's risk settings and sizing "
        "(default: the strategy alone, all-in)",
    )
    backtest.add_argument("--out", type=output_file, help="HTML report path (default data/reports/...)")
    backtest.set_defaults(run=_backtest)


def _backtest(args: argparse.Namespace) -> int:
    if args.start is not None and args.end is not None and args.start >= args.end:
        print(
            f"gpttrader: error: --start {args.start:%Y-%m-%d} must be before --end {args.end:%Y-%m-%d} "
            "(--end is the day after the last)",
            file=sys.stderr,
        )
        return 2
    config = load_config(None)
    configure_logging("WARNING")
    try:
        venue = market_venue(config)  # the cache `gpttrader.app.research` fills from the same market data
        require_listed(args.products, known_products(args.source, CandleCache.of(config.data_dir, venue)))
        strategy = resolve_strategy(args.strategy, dict(args.param))
        profile = load_config(args.risk, overrides={"symbols": args.products}) if args.risk else config
        fees = (
            FeeSchedule(maker=args.fee, taker=args.fee)
            if args.fee is not None
            else FeeSchedule(profile.paper.maker_fee_rate, profile.paper.taker_fee_rate, f"profile {profile.profile}")
        )
        fill_model = FillModel(fees=fees, slippage_bps=args.slippage_bps)
        candles = {
            product: load_candles(
                product,
                args.granularity,
                source=args.source,
                start=args.start,
                end=args.end,
                data_dir=config.data_dir,
                venue=venue,
            )
            for product in args.products
        }
        risk = None
        if args.risk:
            risk = LiveRiskManager.from_config(profile, MemoryJournal())
        result = run_backtest(strategy, candles, initial_cash=args.cash, fill_model=fill_model, risk=risk)
    except (ValueError, CandleFileError) as exc:  # SymbolError is a ValueError
        print(f"gpttrader: error: {exc}", file=sys.stderr)
        return 2
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    label = args.strategy.replace(":", ".")  # module:Class, as a file name
    out = args.out or config.data_dir / "reports" / f"{label}_{'_'.join(args.products)}_{stamp}.html"
    title = f"{label} on {', '.join(args.products)} ({args.granularity.value})"
    try:
        write_html(result, candles, out, title=title)
    except OSError as exc:
        print(f"gpttrader: error: cannot write the report to {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    width = max(len(name) for name in result.metrics)
    for name, value in result.metrics.items():
        print(f"{name:<{width}}  {value:.6g}")
    if result.risk_state is not None:
        guards = result.guard_events()
        breaches = guards[guards["type"] == EventType.RISK_GUARD_BREACHED] if not guards.empty else guards
        rejected = result.risk_frame((EventType.RISK_ORDER_REJECTED,))
        print(
            f"risk ({args.risk}): final state {result.risk_state.value}, {len(breaches)} guard breaches, "
            f"{len(rejected)} orders rejected"
        )
    print(f"report: {out}")
    return 0


def known_products(source: str, cache: CandleCache) -> tuple[list[str], str] | None:
    """The products `source` has candles of, and what it is called: the shipped samples, or the candle
    cache's (the profile's market data's: Coinbase's, or the sandbox's at COINBASE_SANDBOX_URL); None for a
    file (it may hold any product)."""
    if source == "sample":
        return sorted(SAMPLES), "the sample data"
    if source == "cache":
        root = cache.root
        return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else [], "the candle cache"
    return None


def require_listed(products: list[str], known: tuple[list[str], str] | None) -> None:
    """An unknown product refused naming the nearest the data has (SymbolError)."""
    if known is not None:
        try:
            require_symbols_listed(products, known[0], where=known[1])
        except SymbolError as exc:
            raise SymbolError(f"argument --product: {exc}", exc.value) from None
