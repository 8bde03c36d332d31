"""The simulated fill model shared by the backtest and the paper broker: one order against one bar.

The engine hands each working order the bar after the one it was decided on. The rules, on bar data
(open, high, low, close, volume) where the path inside the bar is unknown:
- Market: at the bar's open (or close, if configured), as taker, with slippage against the order.
- Limit: a new order marketable at the open takes at the open; otherwise, or once resting, it fills at
  its limit as maker when the bar's range reaches it (a resting buy is filled at its limit even if the
  bar gapped below it: the gap traded through its bid).
- Stop-limit: triggers when the range reaches the stop; it then takes at the trigger price (the open if
  the bar gapped past the stop) when that is within its limit, or rests as a limit from the next bar.
- Bracket (an exit with two legs): the take-profit limit fills as maker; the stop leg executes as taker at
  the stop (or the open, past a gap) with slippage. A bar that reaches both is read pessimistically: the
  stop fills.
- Size: all that remains, or at most `max_volume_share` of the bar's volume (partial fills).
- Funding: `funding_rate_per_hour`, charged by gpttrader.domain.funding's rule (every venue's).
Taker prices are moved by `slippage_bps` against the order and rounded to the tick on the worse side.
"""

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Literal

from gpttrader.brokers.simulated.fees import FeeSchedule
from gpttrader.domain import Candle, Liquidity, OrderRequest, OrderType, Product, Side
from gpttrader.domain.funding import FUNDING_RATE_PER_HOUR
from gpttrader.domain.quantize import quantize_size, round_to_increment
from gpttrader.domain.values import require_decimal

BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class Execution:
    price: Decimal
    size: Decimal
    fee: Decimal
    liquidity: Liquidity


@dataclass(frozen=True, slots=True)
class FillOutcome:
    execution: Execution | None
    triggered: bool = False


@dataclass(frozen=True)
class FillModel:
    fees: FeeSchedule = field(default_factory=FeeSchedule)
    slippage_bps: Decimal = Decimal(0)
    market_price: Literal["open", "close"] = "open"
    max_volume_share: Decimal | None = None
    # Perpetuals pay funding on the hour: longs pay this share of their notional (shorts receive it).
    funding_rate_per_hour: Decimal = FUNDING_RATE_PER_HOUR

    def __post_init__(self) -> None:
        require_decimal("slippage_bps", self.slippage_bps, non_negative=True)
        if self.market_price not in ("open", "close"):
            raise ValueError(f"market_price must be open or close, got {self.market_price!r}")
        if self.max_volume_share is not None:
            require_decimal("max_volume_share", self.max_volume_share, positive=True)
            if self.max_volume_share > 1:
                raise ValueError(f"max_volume_share must be at most 1, got {self.max_volume_share}")

    def fill(
        self,
        order: OrderRequest,
        bar: Candle,
        product: Product,
        *,
        remaining: Decimal | None = None,
        resting: bool = False,
        triggered: bool = False,
    ) -> FillOutcome:
        """What `order` gets from `bar`: `resting` if it was already working before the bar, `triggered`
        if its stop fired on an earlier bar."""
        left = order.size if remaining is None else remaining
        kind = order.order_type
        if kind is OrderType.MARKET:
            base = bar.open if self.market_price == "open" else bar.close
            return FillOutcome(
                self._execute(order, bar, product, left, self._slipped(base, order.side, product), Liquidity.TAKER)
            )
        if kind is OrderType.BRACKET:
            return FillOutcome(*self._bracket(order, bar, product, left))
        if kind is OrderType.STOP_LIMIT and not triggered:
            return self._stop_limit(order, bar, product, left)
        return FillOutcome(self._limit(order, bar, product, left, resting or triggered))

    # -- order types ----------------------------------------------------------------------------------
    def _limit(
        self, order: OrderRequest, bar: Candle, product: Product, left: Decimal, resting: bool
    ) -> Execution | None:
        limit = order.limit_price
        assert limit is not None
        buy = order.side is Side.BUY
        if not resting and (bar.open <= limit if buy else bar.open >= limit):
            price = (
                min(self._slipped(bar.open, order.side, product), limit)
                if buy
                else max(self._slipped(bar.open, order.side, product), limit)
            )
            return self._execute(order, bar, product, left, price, Liquidity.TAKER)
        if bar.low <= limit if buy else bar.high >= limit:
            return self._execute(order, bar, product, left, limit, Liquidity.MAKER)
        return None

    def _stop_limit(self, order: OrderRequest, bar: Candle, product: Product, left: Decimal) -> FillOutcome:
        stop, limit = order.stop_price, order.limit_price
        assert stop is not None
        assert limit is not None
        buy = order.side is Side.BUY
        if not (bar.high >= stop if buy else bar.low <= stop):
            return FillOutcome(None)
        trigger = max(bar.open, stop) if buy else min(bar.open, stop)
        price = self._slipped(trigger, order.side, product)
        price = min(price, limit) if buy else max(price, limit)
        within = trigger <= limit if buy else trigger >= limit
        execution = self._execute(order, bar, product, left, price, Liquidity.TAKER) if within else None
        return FillOutcome(execution, triggered=True)

    def _bracket(
        self, order: OrderRequest, bar: Candle, product: Product, left: Decimal
    ) -> tuple[Execution | None, bool]:
        stop, take = order.stop_price, order.limit_price
        assert stop is not None
        assert take is not None
        sell = order.side is Side.SELL  # a sell bracket exits a long: stop below, take-profit above
        if bar.low <= stop if sell else bar.high >= stop:
            trigger = min(bar.open, stop) if sell else max(bar.open, stop)
            return self._execute(
                order, bar, product, left, self._slipped(trigger, order.side, product), Liquidity.TAKER
            ), True
        if bar.high >= take if sell else bar.low <= take:
            return self._execute(order, bar, product, left, take, Liquidity.MAKER), False
        return None, False

    # -- pieces ---------------------------------------------------------------------------------------
    def _slipped(self, price: Decimal, side: Side, product: Product) -> Decimal:
        """Price moved against the order by the slippage, on the tick grid, rounded the worse way."""
        moved = price * (1 + self.slippage_bps / BPS) if side is Side.BUY else price * (1 - self.slippage_bps / BPS)
        return round_to_increment(moved, product.quote_increment, ROUND_CEILING if side is Side.BUY else ROUND_FLOOR)

    def _execute(
        self, order: OrderRequest, bar: Candle, product: Product, left: Decimal, price: Decimal, liquidity: Liquidity
    ) -> Execution | None:
        size = left
        if self.max_volume_share is not None:
            size = min(size, quantize_size(bar.volume * self.max_volume_share, product))
        if size <= 0:
            return None
        return Execution(price, size, self.fees.fee(price * size * product.multiplier, liquidity), liquidity)


def reducible(side: Side, position: Decimal) -> Decimal:
    """How much a reduce-only order on `side` may fill against a signed `position`: down to flat and no
    further, and nothing when it would add to the position."""
    return max(position if side is Side.SELL else -position, Decimal(0))
