"""Position sizing: how large a position a signal deserves, as a size, a notional and a fraction of equity.

Every sizer goes through the same steps after its own base fraction: scaled by the signal's confidence and
the market regime, dropped to zero below the minimum fraction, cut to the maximum fraction, the symbol's
notional cap and size cap, and quantized to the product. Each cut is named in the recommendation's
reasons, so that a position smaller than expected can be explained.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from gpttrader.config.models import BotConfig
from gpttrader.domain import Product
from gpttrader.domain.quantize import quantize_size
from gpttrader.risk.limits import TradeLimits


class MarketRegime(StrEnum):
    BULL_QUIET = "bull_quiet"
    BULL_VOLATILE = "bull_volatile"
    SIDEWAYS_QUIET = "sideways_quiet"
    SIDEWAYS_VOLATILE = "sideways_volatile"
    BEAR_QUIET = "bear_quiet"
    BEAR_VOLATILE = "bear_volatile"


@dataclass(frozen=True, slots=True)
class PositionSizeRequest:
    symbol: str
    current_price: Decimal
    portfolio_value: Decimal
    strategy_name: str = ""
    win_rate: Decimal | None = None
    avg_win: Decimal | None = None
    avg_loss: Decimal | None = None
    confidence: Decimal = Decimal(1)
    market_regime: MarketRegime | None = None
    # The product, when known: its contract size turns notional into contracts, its grid and minimum
    # size are what a recommendation is quantized to.
    product: Product | None = None

    def __post_init__(self) -> None:
        if self.current_price <= 0:
            raise ValueError(f"current_price must be positive, got {self.current_price}")
        if not Decimal(0) <= self.confidence <= Decimal(1):
            raise ValueError(f"confidence must be within [0, 1], got {self.confidence}")
        if self.win_rate is not None and not Decimal(0) <= self.win_rate <= Decimal(1):
            raise ValueError(f"win_rate must be within [0, 1], got {self.win_rate}")
        for name in ("avg_win", "avg_loss"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} is a magnitude and must not be negative, got {value}")


@dataclass(frozen=True, slots=True)
class PositionSizeRecommendation:
    symbol: str
    size: Decimal
    notional: Decimal
    fraction: Decimal
    method: str
    reasons: tuple[str, ...] = ()
    kelly_fraction: Decimal | None = None


@dataclass(frozen=True)
class SizingGuardrails:
    """Bounds every sizer respects. The defaults bound nothing (a research backtest's all-in)."""

    min_fraction: Decimal = Decimal(0)
    max_fraction: Decimal = Decimal(1)
    max_notional: Mapping[str, Decimal] = field(default_factory=dict)
    max_size: Mapping[str, Decimal] = field(default_factory=dict)
    regime_scales: Mapping[MarketRegime, Decimal] = field(default_factory=dict)

    def apply(
        self,
        request: PositionSizeRequest,
        fraction: Decimal,
        method: str,
        reasons: list[str],
        kelly: Decimal | None = None,
    ) -> PositionSizeRecommendation:
        fraction *= request.confidence
        if request.confidence < 1:
            reasons.append("confidence")
        if request.market_regime is not None:
            scale = self.regime_scales.get(request.market_regime, Decimal(1))
            if scale < 1:
                fraction *= scale
                reasons.append(f"regime_{request.market_regime.value}")
        if fraction > self.max_fraction:
            fraction = self.max_fraction
            reasons.append("max_fraction")
        if 0 < fraction < self.min_fraction:
            fraction = Decimal(0)
            reasons.append("below_min_fraction")
        notional = request.portfolio_value * fraction
        cap = self.max_notional.get(request.symbol)
        if cap is not None and notional > cap:
            notional = cap
            reasons.append("max_notional")
        product = request.product
        multiplier = product.multiplier if product else Decimal(1)
        size = notional / (request.current_price * multiplier) if notional > 0 else Decimal(0)
        size_cap = self.max_size.get(request.symbol)
        if size_cap is not None and size > size_cap:
            size = size_cap
            reasons.append("max_size")
        if product is not None and size > 0:
            size = quantize_size(size, product)
            if size < product.base_min_size or size == 0:
                size = Decimal(0)
                reasons.append("below_min_size")
        notional = size * request.current_price * multiplier
        fraction = notional / request.portfolio_value if request.portfolio_value > 0 else Decimal(0)
        return PositionSizeRecommendation(request.symbol, size, notional, fraction, method, tuple(reasons), kelly)


class PositionSizer(Protocol):
    def calculate_position_size(self, request: PositionSizeRequest) -> PositionSizeRecommendation: ...


@dataclass(frozen=True)
class FixedFractionSizer:
    """A fixed share of equity per position (1 = all of it)."""

    fraction: Decimal = Decimal(1)
    guardrails: SizingGuardrails = SizingGuardrails()

    def __post_init__(self) -> None:
        if not Decimal(0) < self.fraction <= Decimal(1):
            raise ValueError(f"fraction must be in (0, 1], got {self.fraction}")

    def calculate_position_size(self, request: PositionSizeRequest) -> PositionSizeRecommendation:
        return self.guardrails.apply(request, self.fraction, "fixed_fraction", [])


@dataclass(frozen=True)
class FixedNotionalSizer:
    """The same quote amount per position, whatever the equity (but never more than the equity)."""

    notional: Decimal
    guardrails: SizingGuardrails = SizingGuardrails()

    def __post_init__(self) -> None:
        if self.notional <= 0:
            raise ValueError(f"notional must be positive, got {self.notional}")

    def calculate_position_size(self, request: PositionSizeRequest) -> PositionSizeRecommendation:
        if request.portfolio_value <= 0:
            return self.guardrails.apply(request, Decimal(0), "fixed_notional", ["no_equity"])
        reasons = []
        fraction = self.notional / request.portfolio_value
        if fraction > 1:
            fraction = Decimal(1)
            reasons.append("equity")
        return self.guardrails.apply(request, fraction, "fixed_notional", reasons)


@dataclass(frozen=True)
class KellySizer:
    """The Kelly fraction f* = p - (1 - p) / R, with p the win rate and R = average win / average loss,
    capped at `fraction_cap` (fractional Kelly: the full fraction is too volatile to live with, and the
    inputs are estimates). Without an edge estimate, or with a negative edge, the size is zero."""

    fraction_cap: Decimal = Decimal("0.25")
    guardrails: SizingGuardrails = SizingGuardrails()

    def calculate_position_size(self, request: PositionSizeRequest) -> PositionSizeRecommendation:
        p, win, loss = request.win_rate, request.avg_win, request.avg_loss
        if p is None or win is None or loss is None or loss == 0 or win == 0:
            return self.guardrails.apply(request, Decimal(0), "kelly", ["no_edge_estimate"])
        kelly = p - (1 - p) / (win / loss)
        if kelly <= 0:
            return self.guardrails.apply(request, Decimal(0), "kelly", ["negative_edge"], kelly)
        reasons = []
        fraction = kelly
        if fraction > self.fraction_cap:
            fraction = self.fraction_cap
            reasons.append("kelly_cap")
        return self.guardrails.apply(request, fraction, "kelly", reasons, kelly)


def sizer_from_config(config: BotConfig) -> PositionSizer:
    """The configured sizer, bounded by the risk section and the per-symbol limits file."""
    limits = TradeLimits.from_config(config)
    sizing = config.sizing
    guardrails = SizingGuardrails(
        min_fraction=sizing.min_fraction,
        max_fraction=limits.max_position_fraction,
        max_notional=limits.max_notional,
        max_size=limits.max_size,
        regime_scales={MarketRegime(name): scale for name, scale in sizing.regime_scales.items()},
    )
    if sizing.method == "kelly":
        return KellySizer(sizing.kelly_fraction_cap, guardrails)
    if sizing.method == "fixed_notional":
        assert sizing.notional is not None  # the config requires it for this method
        return FixedNotionalSizer(sizing.notional, guardrails)
    return FixedFractionSizer(sizing.fraction, guardrails)
