"""What an account holds: balances per currency and positions per product."""

from dataclasses import dataclass
from decimal import Decimal

from gpttrader.domain.enums import ProductType, Side
from gpttrader.domain.errors import DomainError
from gpttrader.domain.values import require_decimal


@dataclass(frozen=True, slots=True)
class Balance:
    currency: str
    available: Decimal
    hold: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        require_decimal(f"{self.currency}.available", self.available, non_negative=True)
        require_decimal(f"{self.currency}.hold", self.hold, non_negative=True)

    @property
    def total(self) -> Decimal:
        return self.available + self.hold


@dataclass(frozen=True, slots=True)
class Position:
    """A position with a signed size: positive is long, negative is short (derivatives only).

    PnL is in the quote currency; `multiplier` is the contract size for futures and perpetuals.
    """

    product_id: str
    size: Decimal
    entry_price: Decimal
    mark_price: Decimal
    realized_pnl: Decimal = Decimal(0)
    product_type: ProductType = ProductType.SPOT
    multiplier: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        require_decimal("size", self.size)
        require_decimal("entry_price", self.entry_price, non_negative=True)
        require_decimal("mark_price", self.mark_price, non_negative=True)
        require_decimal("realized_pnl", self.realized_pnl)
        require_decimal("multiplier", self.multiplier, positive=True)
        if self.product_type is ProductType.SPOT and self.size < 0:
            raise DomainError(f"{self.product_id}: a spot position cannot be short ({self.size})")

    @property
    def side(self) -> Side | None:
        if self.size == 0:
            return None
        return Side.BUY if self.size > 0 else Side.SELL

    @property
    def notional(self) -> Decimal:
        return abs(self.size) * self.mark_price * self.multiplier

    @property
    def unrealized_pnl(self) -> Decimal:
        return (self.mark_price - self.entry_price) * self.size * self.multiplier


def roll_position(
    size: Decimal, entry_price: Decimal, change: Decimal, price: Decimal, multiplier: Decimal = Decimal(1)
) -> tuple[Decimal, Decimal, Decimal]:
    """A position after trading `change` (signed) at `price`: (size, average entry, realized PnL).

    Adding keeps a size-weighted average entry; reducing realizes PnL against it; going through zero
    closes the old position and opens the rest at `price`.
    """
    realized = Decimal(0)
    if size and change and (size > 0) != (change > 0):
        closing = min(abs(change), abs(size))
        direction = 1 if size > 0 else -1
        realized = (price - entry_price) * closing * direction * multiplier
        size -= closing * direction
        change += closing * direction
        if size == 0:
            entry_price = Decimal(0)
    if change:
        total = size + change
        entry_price = (entry_price * abs(size) + price * abs(change)) / abs(total)
        size = total
    return size, entry_price, realized
