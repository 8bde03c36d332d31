"""Turn a target (a fraction of equity) into an order size at the price the order will execute at.

Sizing happens when the order is made, with that moment's price: the next bar's open in a backtest, the
quote in live. Buying never spends more cash than there is, fee included, so all-in from flat is
cash / (price x (1 + fee)).
"""

from dataclasses import dataclass
from decimal import Decimal

from gpttrader.domain import Product
from gpttrader.domain.quantize import quantize_size


@dataclass(frozen=True)
class FixedFractionSizer:
    """Scale every target by `fraction` of equity (1 = the whole equity for a target of 1)."""

    fraction: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        if not Decimal(0) < self.fraction <= Decimal(1):
            raise ValueError(f"fraction must be in (0, 1], got {self.fraction}")

    def delta(
        self,
        *,
        product: Product,
        target: float,
        current: Decimal,
        equity: Decimal,
        cash: Decimal,
        price: Decimal,
        fee_rate: Decimal,
    ) -> Decimal:
        """Signed size to trade so that the position matches the target (0 when nothing to do)."""
        wanted = equity * self.fraction * Decimal(repr(target)) / (price * product.multiplier)
        change = wanted - current
        if change > 0 and not product.is_derivative:
            change = min(change, cash / (price * (1 + fee_rate)))
        size = quantize_size(abs(change), product)
        return size if change > 0 else -size
