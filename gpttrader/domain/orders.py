"""Orders as asked for (OrderRequest), as tracked (Order) and as executed (Fill)."""

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal

from gpttrader.domain.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from gpttrader.domain.errors import DomainError
from gpttrader.domain.values import require_decimal, require_utc

_PRICES_BY_TYPE: dict[OrderType, tuple[bool, bool]] = {
    # order type: (needs limit_price, needs stop_price)
    OrderType.MARKET: (False, False),
    OrderType.LIMIT: (True, False),
    OrderType.STOP_LIMIT: (True, True),
    # A bracket is Coinbase's exit pair: limit_price takes profit, stop_price is the stop trigger.
    OrderType.BRACKET: (True, True),
}


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What a strategy and the risk layer agreed to send; `client_order_id` makes resending idempotent."""

    client_order_id: str
    product_id: str
    side: Side
    order_type: OrderType
    size: Decimal
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce | None = None
    end_time: datetime | None = None
    post_only: bool = False
    reduce_only: bool = False

    def __post_init__(self) -> None:
        if not self.client_order_id:
            raise DomainError("client_order_id must not be empty")
        require_decimal("size", self.size, positive=True)
        needs_limit, needs_stop = _PRICES_BY_TYPE[self.order_type]
        for name, needed in (("limit_price", needs_limit), ("stop_price", needs_stop)):
            value = getattr(self, name)
            if needed and value is None:
                raise DomainError(f"a {self.order_type} order needs {name}")
            if not needed and value is not None:
                raise DomainError(f"a {self.order_type} order takes no {name}")
            if value is not None:
                require_decimal(name, value, positive=True)
        tif = self.time_in_force or (TimeInForce.IOC if self.order_type is OrderType.MARKET else TimeInForce.GTC)
        object.__setattr__(self, "time_in_force", tif)
        if self.order_type is OrderType.MARKET and tif not in (TimeInForce.IOC, TimeInForce.FOK):
            raise DomainError(f"a MARKET order is IOC or FOK, not {tif}")
        if (tif is TimeInForce.GTD) != (self.end_time is not None):
            raise DomainError("end_time is required with GTD and only with GTD")
        if self.end_time is not None:
            object.__setattr__(self, "end_time", require_utc("end_time", self.end_time))
        if self.post_only and (self.order_type is not OrderType.LIMIT or tif in (TimeInForce.IOC, TimeInForce.FOK)):
            raise DomainError("post_only applies to resting LIMIT orders (GTC or GTD) only")

    def with_prices(self, size: Decimal, limit_price: Decimal | None, stop_price: Decimal | None) -> "OrderRequest":
        return OrderRequest(
            **{f.name: getattr(self, f.name) for f in fields(OrderRequest)}
            | {"size": size, "limit_price": limit_price, "stop_price": stop_price}
        )


@dataclass(frozen=True, slots=True)
class PreparedOrder(OrderRequest):
    """An order on its product's grid and within its limits. Only `domain.quantize.prepare_order` makes one
    (`with_prices` gives a plain OrderRequest again; never `dataclasses.replace` one), so whoever holds one
    sends it as it is: an order is quantized and checked once, by the executor, however many hands it
    passes through on its way out; a broker prepares only what reaches it unprepared (a direct call)."""


@dataclass(frozen=True, slots=True)
class Order:
    """An order with what the venue has done with it so far."""

    request: OrderRequest
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    order_id: str | None = None
    filled_size: Decimal = Decimal(0)
    average_filled_price: Decimal | None = None
    fees: Decimal = Decimal(0)
    reject_reason: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "created_at", require_utc("created_at", self.created_at))
        object.__setattr__(self, "updated_at", require_utc("updated_at", self.updated_at))
        require_decimal("filled_size", self.filled_size, non_negative=True)
        require_decimal("fees", self.fees, non_negative=True)
        if self.filled_size > self.request.size:
            raise DomainError(
                f"order {self.request.client_order_id}: filled_size {self.filled_size} exceeds size {self.request.size}"
            )
        if self.filled_size > 0:
            if self.average_filled_price is None:
                raise DomainError(f"order {self.request.client_order_id}: filled without average_filled_price")
            require_decimal("average_filled_price", self.average_filled_price, positive=True)

    @property
    def client_order_id(self) -> str:
        return self.request.client_order_id

    @property
    def product_id(self) -> str:
        return self.request.product_id

    @property
    def side(self) -> Side:
        return self.request.side

    @property
    def remaining_size(self) -> Decimal:
        return self.request.size - self.filled_size

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution; `trade_id` is unique per venue and is what de-duplicates replayed fills."""

    trade_id: str
    client_order_id: str
    product_id: str
    side: Side
    price: Decimal
    size: Decimal
    fee: Decimal
    liquidity: Liquidity
    time: datetime
    order_id: str | None = None

    def __post_init__(self) -> None:
        if not self.trade_id:
            raise DomainError("trade_id must not be empty")
        require_decimal("price", self.price, positive=True)
        require_decimal("size", self.size, positive=True)
        require_decimal("fee", self.fee, non_negative=True)
        object.__setattr__(self, "time", require_utc("time", self.time))

    @property
    def notional(self) -> Decimal:
        return self.price * self.size
