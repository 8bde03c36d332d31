"""Margin accounts and positions for the sandbox's futures (CFM, in USD) and perpetuals (INTX, in USDC).

A position is a signed number of contracts with an average entry price. Reducing it realizes PnL into
the margin account; fees come out of the same account. Initial margin is a fraction of the notional:
the overnight rate, or the lower intraday rate when the account opted in to intraday margin. Perpetual
and perpetual-style positions pay (longs) or receive (shorts) funding every hour (gpttrader.domain.funding,
every venue's rule); a perpetual-style future's stays accrued until it settles twice a day, counted in
the position's unrealized PnL until then.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from gpttrader.domain import Product, ProductType, roll_position

OVERNIGHT_MARGIN = Decimal("0.20")
INTRADAY_MARGIN = Decimal("0.10")
PERPETUAL_MARGIN = Decimal("0.05")
INTRADAY_SETTING = "INTRADAY_MARGIN_SETTING_INTRADAY"
STANDARD_SETTING = "INTRADAY_MARGIN_SETTING_STANDARD"
INTRADAY_HOURS_UTC = range(13, 21)  # 08:00-16:00 New York, when intraday margin rates apply


def intraday_window(moment: datetime) -> bool:
    return moment.hour in INTRADAY_HOURS_UTC


@dataclass
class DerivativePosition:
    product: Product
    contracts: Decimal = Decimal(0)
    entry_price: Decimal = Decimal(0)
    realized_pnl: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    funding: Decimal = Decimal(0)  # charged in total, settled or not
    accrued_funding: Decimal = Decimal(0)  # charged and not yet settled into the account's balance
    funded_through: datetime | None = None  # funding is charged for the hours after this

    @property
    def multiplier(self) -> Decimal:
        return self.product.multiplier

    def notional(self, mark: Decimal) -> Decimal:
        return abs(self.contracts) * mark * self.multiplier

    def unrealized(self, mark: Decimal) -> Decimal:
        return (mark - self.entry_price) * self.contracts * self.multiplier - self.accrued_funding

    def apply(self, signed_contracts: Decimal, price: Decimal) -> Decimal:
        """Add a fill; returns the PnL it realized (on the part that reduced the position)."""
        self.contracts, self.entry_price, realized = roll_position(
            self.contracts, self.entry_price, signed_contracts, price, self.multiplier
        )
        self.realized_pnl += realized
        return realized


@dataclass
class MarginAccount:
    """One margin venue: CFM (futures, USD) or INTX (perpetuals, USDC)."""

    venue: str
    currency: str
    balance: Decimal
    hold: Decimal = Decimal(0)
    intraday_setting: str = STANDARD_SETTING
    positions: dict[str, DerivativePosition] = field(default_factory=dict)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC), repr=False)  # the exchange's clock

    def margin_rate(self, product: Product) -> Decimal:
        if product.product_type is ProductType.PERPETUAL:
            return PERPETUAL_MARGIN
        opted_in = self.intraday_setting == INTRADAY_SETTING
        return INTRADAY_MARGIN if opted_in and intraday_window(self.now()) else OVERNIGHT_MARGIN

    def position(self, product: Product) -> DerivativePosition:
        if product.product_id not in self.positions:
            self.positions[product.product_id] = DerivativePosition(product)
        return self.positions[product.product_id]

    def initial_margin(self, marks: dict[str, Decimal]) -> Decimal:
        return sum(
            (p.notional(marks[pid]) * self.margin_rate(p.product) for pid, p in self.positions.items() if p.contracts),
            Decimal(0),
        )

    def unrealized(self, marks: dict[str, Decimal]) -> Decimal:
        return sum(
            (p.unrealized(marks[pid]) for pid, p in self.positions.items() if p.contracts or p.accrued_funding),
            Decimal(0),
        )

    def available_margin(self, marks: dict[str, Decimal]) -> Decimal:
        return self.balance + self.unrealized(marks) - self.initial_margin(marks) - self.hold

    def added_exposure(self, product: Product, signed_contracts: Decimal) -> Decimal:
        """Contracts by which an order would grow the position (zero for a reducing order)."""
        current = self.position(product).contracts
        return max(abs(current + signed_contracts) - abs(current), Decimal(0))
