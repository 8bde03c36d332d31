"""Maker/taker fees as a fraction of notional."""

from dataclasses import dataclass
from decimal import Decimal

from gpttrader.brokers.protocol import FeeRates
from gpttrader.domain import Liquidity
from gpttrader.domain.values import require_decimal


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Coinbase's entry tier by default: 0.40% maker, 0.60% taker."""

    maker: Decimal = Decimal("0.004")
    taker: Decimal = Decimal("0.006")
    tier_name: str = "Advanced 1"

    def __post_init__(self) -> None:
        require_decimal("maker", self.maker, non_negative=True)
        require_decimal("taker", self.taker, non_negative=True)

    def rate(self, liquidity: Liquidity) -> Decimal:
        return self.maker if liquidity is Liquidity.MAKER else self.taker

    def fee(self, notional: Decimal, liquidity: Liquidity) -> Decimal:
        return notional * self.rate(liquidity)

    def rates(self) -> FeeRates:
        """The schedule as a broker reports it (`Broker.fee_rates`)."""
        return FeeRates(self.tier_name, self.maker, self.taker)
