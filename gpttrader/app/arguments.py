"""Argument types and options shared by the command groups; each refuses bad input with a clear message."""

import argparse
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from gpttrader.config import PROFILE_NAMES
from gpttrader.domain import Granularity
from gpttrader.domain.symbols import SymbolError, normalize_symbol
from gpttrader.domain.values import MAX_FEE_RATE


def profile_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        metavar="NAME",
        help=f"one of {', '.join(PROFILE_NAMES)} (default: $GPTTRADER_PROFILE, paper if PERPS_PAPER=1, else dev)",
    )


# What a person types for a number: digits, an optional point and an optional exponent (1.5e-3). Decimal()
# also takes underscores (1_0 is 10), surrounding spaces, other scripts' digits, inf and nan: refused.
_PLAIN_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
# Finer than any venue's increment (Coinbase goes to 1e-8, ETH wei to 1e-18); a finer number is a typo, and
# arithmetic on one far below Decimal's range overflows where it is divided by.
MAX_PLACES = 18
# Cash, sizes and prices: above any account, position or price a bot may handle, and small enough that
# cents of it stay exact in the float64 metrics (2**53 is about 9e15).
MAX_AMOUNT = Decimal(10) ** 12
MAX_SLIPPAGE_BPS = Decimal(1000)
# Digits only: int() also takes underscores, spaces, a sign and other scripts' digits ("١٢" is 12).
_WHOLE = re.compile(r"[0-9]+")
# Counts (events to show, cycles to run): a billion minute cycles is 1900 years; SQLite's limit is 2**63.
MAX_COUNT = 10**9


def _plain_decimal(text: str) -> Decimal:
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a plain decimal number (like 12, 0.001 or 1.5e-3; no underscores, spaces, inf or nan)"
        )
    return Decimal(text)


def _within(text: str, low: Decimal, high: Decimal, *, low_allowed: bool, allowed: str) -> Decimal:
    value = _plain_decimal(text)
    if value > high or value < low or (value == low and not low_allowed):
        raise argparse.ArgumentTypeError(f"{text} is out of range: {allowed}")
    if _decimal_places(value) > MAX_PLACES:
        raise argparse.ArgumentTypeError(f"{text} has more than {MAX_PLACES} decimal places")
    return value


def _decimal_places(value: Decimal) -> int:
    """Digits after the point that matter: 1.50 has one, 1e-3 three. Counted on the digits, since
    normalize() would round a number far below Decimal's range to zero."""
    _, digits, exponent = value.as_tuple()
    significant = "".join(map(str, digits)).rstrip("0")
    return max(0, -(int(exponent) + len(digits) - len(significant))) if significant else 0


def amount(text: str) -> Decimal:
    """Cash, a size or a price."""
    return _within(
        text, Decimal(0), MAX_AMOUNT, low_allowed=False, allowed=f"an amount is above 0 and at most {MAX_AMOUNT}"
    )


def fee_rate(text: str) -> Decimal:
    """A fee as a fraction of the notional, per side (0.006 is 0.6%)."""
    return _within(
        text,
        Decimal(0),
        MAX_FEE_RATE,
        low_allowed=True,
        allowed=f"a fee rate per side is from 0 to {MAX_FEE_RATE} (10%)",
    )


def slippage_bps(text: str) -> Decimal:
    return _within(
        text,
        Decimal(0),
        MAX_SLIPPAGE_BPS,
        low_allowed=True,
        allowed=f"slippage is from 0 to {MAX_SLIPPAGE_BPS} bps (10%)",
    )


def product_id(text: str) -> str:
    """A product id in any form a person types (btc-usd, BTC/USD, BTCUSD), as Coinbase's (BTC-USD); whether
    it is listed is for the command to check against what it trades on."""
    try:
        return normalize_symbol(text)
    except SymbolError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def candle_source(text: str) -> tuple[str, Path]:
    product, sep, path = text.partition("=")
    if not sep or not product or not path:
        raise argparse.ArgumentTypeError(f"{text!r} is not PRODUCT=PATH, e.g. BTC-USD=btc.parquet")
    return product_id(product), Path(path)


def output_file(text: str) -> Path:
    """A file to write; refused here when it cannot be one, so that the work is not done for nothing."""
    path = Path(text)
    if not text or path.is_dir():
        raise argparse.ArgumentTypeError(
            f"{text!r} is a folder, not a file to write (e.g. {Path(text, 'report.html')})"
        )
    return path


def date_arg(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-01-31") from None


def key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    return key, value


def port(text: str) -> int:
    value = int(text) if _WHOLE.fullmatch(text) else -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0-65535)")
    return value


def positive_int(text: str) -> int:
    """A count: of events, of cycles."""
    if not _WHOLE.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (digits only, like 20)")
    value = int(text)
    if not 1 <= value <= MAX_COUNT:
        raise argparse.ArgumentTypeError(f"{text} is out of range: from 1 to {MAX_COUNT}")
    return value


def non_negative_float(text: str) -> float:
    """Seconds of wall time: 0 or more, finite."""
    value = float(_plain_decimal(text))
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative: 0 or more seconds")
    return value


def granularity(text: str) -> Granularity:
    """A candle width by Coinbase's name (ONE_HOUR) or in seconds (3600); the error lists the choices."""
    try:
        return Granularity.parse(int(text) if _WHOLE.fullmatch(text) else text.upper())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
