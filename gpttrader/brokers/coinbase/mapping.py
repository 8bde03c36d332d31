"""Read the SDK's loose typed responses into domain values, strictly.

The SDK's response classes require no field, keep numbers as strings and expose a missing field as a
missing attribute, so every read goes through `field()` on the response's dict form, every number through
`dec()`, every list through `items()` and every flag through `flag()`: each names the field when a value
is absent or of the wrong type, as a MalformedAnswerError. Nothing is ever read as a default that the
answer did not say (an `{}` for the accounts is not an empty account). The broker reads each answer
inside `reading(endpoint)`, which names the endpoint on the error.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from gpttrader.brokers.errors import MalformedAnswerError, NotFoundError, UnsupportedOrderError
from gpttrader.brokers.protocol import FeeRates
from gpttrader.domain import (
    Balance,
    BookLevel,
    Candle,
    Fill,
    Liquidity,
    Order,
    OrderBook,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Product,
    ProductType,
    Quote,
    Side,
    TimeInForce,
)
from gpttrader.domain.values import MAX_FEE_RATE

# order_configuration key -> (our order type, time in force)
CONFIGURATION_TYPES: dict[str, tuple[OrderType, TimeInForce]] = {
    "market_market_ioc": (OrderType.MARKET, TimeInForce.IOC),
    "market_market_fok": (OrderType.MARKET, TimeInForce.FOK),
    "limit_limit_gtc": (OrderType.LIMIT, TimeInForce.GTC),
    "limit_limit_gtd": (OrderType.LIMIT, TimeInForce.GTD),
    "limit_limit_fok": (OrderType.LIMIT, TimeInForce.FOK),
    "sor_limit_ioc": (OrderType.LIMIT, TimeInForce.IOC),
    "stop_limit_stop_limit_gtc": (OrderType.STOP_LIMIT, TimeInForce.GTC),
    "stop_limit_stop_limit_gtd": (OrderType.STOP_LIMIT, TimeInForce.GTD),
    "trigger_bracket_gtc": (OrderType.BRACKET, TimeInForce.GTC),
    "trigger_bracket_gtd": (OrderType.BRACKET, TimeInForce.GTD),
}
_STATUS = {
    "PENDING": OrderStatus.OPEN,  # acknowledged by the venue, not yet on the book
    "QUEUED": OrderStatus.OPEN,
    "OPEN": OrderStatus.OPEN,
    "CANCEL_QUEUED": OrderStatus.OPEN,
    "FILLED": OrderStatus.FILLED,
    "CANCELLED": OrderStatus.CANCELLED,
    "EXPIRED": OrderStatus.EXPIRED,
    "FAILED": OrderStatus.FAILED,
}


@contextmanager
def reading(endpoint: str) -> Iterator[None]:
    """Parse an answer of `endpoint`: any failure to read it is a MalformedAnswerError naming the endpoint
    (a wrong type met by a parser is as malformed as a missing field)."""
    try:
        yield
    except MalformedAnswerError as exc:
        raise exc.at(endpoint) from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedAnswerError(f"{type(exc).__name__}: {exc}", endpoint) from None


def as_dict(response: Any) -> dict[str, Any]:
    if isinstance(response, dict):
        return response
    to_dict = getattr(response, "to_dict", None)
    if callable(to_dict):
        result = to_dict()
        if isinstance(result, dict):
            return result
    raise MalformedAnswerError(f"expected a JSON object, got {type(response).__name__}")


def field(data: dict[str, Any], name: str, where: str) -> Any:
    if not isinstance(data, dict):
        raise MalformedAnswerError(f"{where}: expected an object holding {name!r}, got {type(data).__name__}")
    value = data.get(name)
    if value is None or value == "":
        raise MalformedAnswerError(f"{where}: field {name!r} is missing")
    return value


def items(data: dict[str, Any], name: str, where: str) -> list[dict[str, Any]]:
    """A required list of objects (an empty list is an answer; a missing one is not)."""
    value = data.get(name) if isinstance(data, dict) else None
    if not isinstance(value, list):
        raise MalformedAnswerError(f"{where}: field {name!r} is missing or not a list")
    for entry in value:
        if not isinstance(entry, dict):
            raise MalformedAnswerError(f"{where}: field {name!r} holds a {type(entry).__name__}, not an object")
    return value


def flag(data: dict[str, Any], name: str, where: str) -> bool:
    value = data.get(name) if isinstance(data, dict) else None
    if not isinstance(value, bool):
        raise MalformedAnswerError(f"{where}: field {name!r} is missing or not true/false: {value!r}")
    return value


def dec(data: dict[str, Any], name: str, where: str, default: Decimal | None = None) -> Decimal:
    value = data.get(name) if isinstance(data, dict) else None
    if (value is None or value == "") and default is not None:
        return default
    raw = field(data, name, where)
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise MalformedAnswerError(f"{where}: field {name!r} is not a number: {raw!r}")
    try:
        number = Decimal(str(raw))
    except InvalidOperation:
        raise MalformedAnswerError(f"{where}: field {name!r} is not a number: {raw!r}") from None
    if not number.is_finite():
        raise MalformedAnswerError(f"{where}: field {name!r} is not a finite number: {raw!r}")
    return number


def timestamp(value: Any, where: str) -> datetime:
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
        return datetime.fromtimestamp(int(value), UTC)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        raise MalformedAnswerError(f"{where}: {value!r} is not a time") from None


def amount(data: dict[str, Any], name: str, where: str) -> Decimal:
    """A Coinbase money object ({"value": ..., "currency": ...}) as a Decimal."""
    return dec(field(data, name, where), "value", where)


def fee_tier(where: str, data: dict[str, Any]) -> FeeRates:
    """A transaction summary's `fee_tier`: its name and maker and taker rates (fractions, "0.006" is 0.6%),
    each required and from 0 to MAX_FEE_RATE; the tier's name (`pricing_tier`) where given."""
    tier = field(data, "fee_tier", where)
    rates = {}
    for name in ("maker_fee_rate", "taker_fee_rate"):
        rate = dec(tier, name, where)
        if not 0 <= rate <= MAX_FEE_RATE:
            raise MalformedAnswerError(f"{where}: field {name!r} is {rate}, not a fee rate from 0 to {MAX_FEE_RATE}")
        rates[name] = rate
    # The tier's name is a label only (shown, never computed with): an answer without one is still read.
    label = tier.get("pricing_tier") if isinstance(tier, dict) else None
    return FeeRates(str(label or "unnamed tier"), rates["maker_fee_rate"], rates["taker_fee_rate"])


def futures_position(data: dict[str, Any], product: Product) -> Position:
    where = f"futures position {data.get('product_id')}"
    contracts = dec(data, "number_of_contracts", where)
    side = field(data, "side", where)
    if side not in ("LONG", "SHORT"):
        raise MalformedAnswerError(f"{where}: field 'side' is {side!r}, not LONG or SHORT")
    return Position(
        product_id=product.product_id,
        size=contracts if side == "LONG" else -contracts,
        entry_price=amount(data, "avg_entry_price", where),
        mark_price=amount(data, "current_price", where),
        realized_pnl=amount(data, "daily_realized_pnl", where),
        product_type=ProductType.FUTURE,
        multiplier=product.multiplier,
    )


def perpetual_position(data: dict[str, Any], product: Product) -> Position:
    where = f"perpetual position {data.get('symbol')}"
    return Position(
        product_id=product.product_id,
        size=dec(data, "net_size", where),
        entry_price=amount(data, "entry_vwap", where),
        mark_price=amount(data, "mark_price", where),
        product_type=ProductType.PERPETUAL,
        multiplier=product.multiplier,
    )


def product(data: dict[str, Any]) -> Product:
    where = f"product {data.get('product_id')}"
    kind = ProductType.SPOT
    contract_size = expiry = None
    perpetual_style = False
    details = data.get("future_product_details") or {}
    if data.get("product_type") == "FUTURE":
        kind = ProductType.PERPETUAL if details.get("contract_expiry_type") == "PERPETUAL" else ProductType.FUTURE
        contract_size = dec(details, "contract_size", where)
        if kind is ProductType.FUTURE:
            expiry = timestamp(field(details, "contract_expiry", where), where)
            # A perpetual-style future (BIP, ETP) is EXPIRING like a monthly one; only it has a funding interval.
            perpetual_style = bool(details.get("funding_interval"))
    product_id = str(field(data, "product_id", where))
    base, _, quote = product_id.partition("-")
    return Product(
        product_id=product_id,
        base_currency=str(data.get("base_currency_id") or details.get("contract_root_unit") or base),
        quote_currency=str(data.get("quote_currency_id") or quote),
        base_increment=dec(data, "base_increment", where),
        quote_increment=dec(data, "price_increment", where, dec(data, "quote_increment", where)),
        base_min_size=dec(data, "base_min_size", where),
        base_max_size=dec(data, "base_max_size", where),
        quote_min_size=dec(data, "quote_min_size", where, Decimal(0)),
        product_type=kind,
        contract_size=contract_size,
        expiry=expiry,
        # Coinbase gives CFM futures an empty status: only a status that is there and not online stops trading.
        tradable=not any(data.get(flag) for flag in ("trading_disabled", "is_disabled", "cancel_only", "view_only"))
        and (data.get("status") or "online") == "online",
        perpetual_style=perpetual_style,
    )


# Accounts that hold no spot trading balance: a vault's funds wait out a withdrawal delay, and a perpetuals
# account's collateral is read from its portfolio. Coinbase's reference spells types ACCOUNT_TYPE_*; its older
# answers (and its own examples) say CRYPTO, FIAT: both are read.
_NOT_SPOT_ACCOUNTS = frozenset({"VAULT", "PERP_FUTURES"})


def account_type(data: dict[str, Any]) -> str:
    """An account's type without the ACCOUNT_TYPE_ prefix ("" where the answer gives none)."""
    return str(data.get("type") or "").removeprefix("ACCOUNT_TYPE_")


def is_spot_wallet(data: dict[str, Any]) -> bool:
    return account_type(data) not in _NOT_SPOT_ACCOUNTS


def balance(data: dict[str, Any]) -> Balance:
    where = f"account {data.get('uuid')}"
    return Balance(
        currency=str(field(data, "currency", where)),
        available=dec(field(data, "available_balance", where), "value", where),
        hold=dec(data.get("hold") or {}, "value", where, Decimal(0)),
    )


def top_of_book(product_id: str, book: dict[str, Any]) -> Quote:
    """The best bid and ask of a price book (best_bid_ask's or product_book's: the same shape)."""
    if not book.get("bids") or not book.get("asks"):
        raise NotFoundError(f"no quote for {product_id}")
    where = f"{product_id} quote"
    bid = dec(book["bids"][0], "price", where)
    ask = dec(book["asks"][0], "price", where)
    return Quote(product_id, bid, ask, (bid + ask) / 2, timestamp(field(book, "time", where), where))


def order_book(product_id: str, book: dict[str, Any]) -> OrderBook:
    """A product_book's pricebook: every level read, none guessed (an empty side is a malformed answer)."""
    where = f"{product_id} book"
    return OrderBook(
        product_id,
        tuple(BookLevel(dec(lv, "price", where), dec(lv, "size", where)) for lv in items(book, "bids", where)),
        tuple(BookLevel(dec(lv, "price", where), dec(lv, "size", where)) for lv in items(book, "asks", where)),
        timestamp(field(book, "time", where), where),
    )


def candle(product_id: str, data: dict[str, Any]) -> Candle:
    where = f"{product_id} candle"
    return Candle(
        product_id=product_id,
        time=timestamp(field(data, "start", where), where),
        open=dec(data, "open", where),
        high=dec(data, "high", where),
        low=dec(data, "low", where),
        close=dec(data, "close", where),
        volume=dec(data, "volume", where),
    )


def order(data: dict[str, Any]) -> Order:
    where = f"order {data.get('order_id')}"
    configuration = field(data, "order_configuration", where)
    ((key, params),) = configuration.items()
    if key not in CONFIGURATION_TYPES:
        raise UnsupportedOrderError(f"{where}: an order configuration this toolkit does not place: {key}")
    filled = dec(data, "filled_size", where)  # never a default: "nothing filled" must be said, not assumed
    # A market buy sized in quote (placed by hand, by dollar amount): its base size is what it bought.
    sized_in_quote = "base_size" not in params and "quote_size" in params
    if sized_in_quote and filled <= 0:
        raise UnsupportedOrderError(f"{where}: a {key} order sized in quote currency that bought nothing")
    order_type, tif = CONFIGURATION_TYPES[key]
    end_time = params.get("end_time")
    request = OrderRequest(
        client_order_id=str(field(data, "client_order_id", where)),
        product_id=str(field(data, "product_id", where)),
        side=Side(str(field(data, "side", where))),
        order_type=order_type,
        size=filled if sized_in_quote else dec(params, "base_size", where),
        limit_price=dec(params, "limit_price", where) if "limit_price" in params else None,
        stop_price=dec(params, "stop_price" if "stop_price" in params else "stop_trigger_price", where)
        if order_type in (OrderType.STOP_LIMIT, OrderType.BRACKET)
        else None,
        time_in_force=tif,
        end_time=timestamp(end_time, where) if end_time else None,
        post_only=bool(params.get("post_only", False)),
    )
    venue_status = str(field(data, "status", where))
    if venue_status not in _STATUS:
        raise UnsupportedOrderError(f"{where}: an order status this toolkit does not know: {venue_status}")
    status = _STATUS[venue_status]
    if status is OrderStatus.OPEN and filled > 0:
        status = OrderStatus.PARTIALLY_FILLED
    created = timestamp(field(data, "created_time", where), where)
    last_fill = data.get("last_fill_time")
    return Order(
        request=request,
        status=status,
        order_id=str(field(data, "order_id", where)),
        created_at=created,
        updated_at=timestamp(last_fill, where) if last_fill else created,
        filled_size=filled,
        average_filled_price=dec(data, "average_filled_price", where) if filled > 0 else None,
        fees=dec(data, "total_fees", where),
        reject_reason=str(data.get("reject_message") or data.get("cancel_message") or "") or None,
    )


def fill(data: dict[str, Any], client_order_id: str) -> Fill:
    """A fill; one of a quote-sized order says its size in quote (`size_in_quote`), read back into base."""
    where = f"fill {data.get('trade_id')}"
    price = dec(data, "price", where)
    size = dec(data, "size", where)
    in_quote = data.get("size_in_quote", False)
    if not isinstance(in_quote, bool):
        raise MalformedAnswerError(f"{where}: field 'size_in_quote' is not true/false: {in_quote!r}")
    return Fill(
        trade_id=str(field(data, "trade_id", where)),
        client_order_id=client_order_id,
        product_id=str(field(data, "product_id", where)),
        side=Side(str(field(data, "side", where))),
        price=price,
        size=size / price if in_quote else size,
        fee=dec(data, "commission", where),
        liquidity=Liquidity.MAKER if data.get("liquidity_indicator") == "MAKER" else Liquidity.TAKER,
        time=timestamp(field(data, "trade_time", where), where),
        order_id=str(field(data, "order_id", where)),
    )
