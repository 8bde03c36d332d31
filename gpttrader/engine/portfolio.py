"""Portfolio accounting shared by the backtest, paper and live: one cash balance, positions per product.

Everything is Decimal. A fill moves cash (spot: the notional and the fee; derivatives: only realized PnL
and the fee, the notional being margin, not cash), the position's size and average entry, and realizes
PnL when it reduces a position. Round trips (a position opened then closed, its PnL after fees) are
`gpttrader.domain.round_trips`.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from gpttrader.domain import Fill, Position, Product, Side, roll_position


@dataclass
class Holding:
    product: Product
    size: Decimal = Decimal(0)
    entry_price: Decimal = Decimal(0)
    realized_pnl: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    funding: Decimal = Decimal(0)

    def position(self, mark: Decimal) -> Position:
        return Position(
            self.product.product_id,
            self.size,
            self.entry_price,
            mark,
            self.realized_pnl,
            self.product.product_type,
            self.product.multiplier,
        )


@dataclass
class Portfolio:
    cash: Decimal
    holdings: dict[str, Holding] = field(default_factory=dict)
    fees_paid: Decimal = Decimal(0)

    def holding(self, product: Product) -> Holding:
        if product.product_id not in self.holdings:
            self.holdings[product.product_id] = Holding(product)
        return self.holdings[product.product_id]

    def size(self, product_id: str) -> Decimal:
        holding = self.holdings.get(product_id)
        return holding.size if holding else Decimal(0)

    def apply(self, fill: Fill, product: Product) -> Decimal:
        """Book a fill; returns the PnL it realized."""
        holding = self.holding(product)
        signed = fill.size if fill.side is Side.BUY else -fill.size
        holding.size, holding.entry_price, realized = roll_position(
            holding.size, holding.entry_price, signed, fill.price, product.multiplier
        )
        holding.realized_pnl += realized
        holding.fees += fill.fee
        self.fees_paid += fill.fee
        if product.is_derivative:
            self.cash += realized - fill.fee
        else:
            notional = fill.price * fill.size
            self.cash += (-notional if fill.side is Side.BUY else notional) - fill.fee
        return realized

    def pay_funding(self, product: Product, amount: Decimal) -> None:
        """Book a funding payment (negative when received) for a perpetual position."""
        self.holding(product).funding += amount
        self.cash -= amount

    def equity(self, marks: dict[str, Decimal]) -> Decimal:
        """Cash plus spot holdings at their marks plus derivatives' unrealized PnL."""
        total = self.cash
        for product_id, holding in self.holdings.items():
            if not holding.size:
                continue
            mark = marks[product_id]
            if holding.product.is_derivative:
                total += (mark - holding.entry_price) * holding.size * holding.product.multiplier
            else:
                total += holding.size * mark
        return total
