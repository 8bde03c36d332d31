"""Position sizing: how large a position a signal deserves, as a size, a notional and a fraction of equity.

Every sizer goes through the same steps after its own base fraction: scaled by the signal's confidence and
the market regime, dropped to zero below the minimum fraction, cut to the maximum fraction, the symbol's
notional cap and size cap, and quantized to the product. Each cut is named in the recommendation's
reasons, so that a position smaller than expected can be explained.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from gpttrader.config.models import BotConfig, SizingConfig
from gpttrader.domain import MarketRegime, Product
from gpttrader.domain.quantize import quantize_size
from gpttrader.risk.limits import TradeLimits

Number = Decimal | int | float | str


def to_decimal(name: str, value: Number) -> Decimal:
    """A plain number read exactly as written: a float through its shortest decimal text (0.1 is 0.1,
    not the binary 0.1000000000000000055...), never through its binary value."""
    if type(value) is Decimal and value.is_finite():  # the engine's requests: nothing to convert
        return value
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
        raise TypeError(f"{name} must be a number, got {value!r}")
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except ArithmeticError:
        raise ValueError(f"{name} is not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


def _optional(name: str, value: Number | None) -> Decimal | None:
    return None if value is None else to_decimal(name, value)


def _regime(value: "MarketRegime | str | None") -> "MarketRegime | None":
    if value is None or isinstance(value, MarketRegime):
        return value
    try:
        return MarketRegime(str(value).strip().lower())
    except ValueError:
        known = ", ".join(r.value for r in MarketRegime)
        raise ValueError(f"market_regime {value!r} is not one of {known}") from None


@dataclass(frozen=True, slots=True, init=False)
class PositionSizeRequest:
    """What a sizer is asked. At this research-facing boundary plain numbers are accepted (and read
    exactly), an average loss written negative is read as its magnitude, and the regime may be named.
    `trade_count` is how many round trips the edge estimate rests on (None: an estimate given by hand)."""

    symbol: str
    current_price: Decimal
    portfolio_value: Decimal
    strategy_name: str
    win_rate: Decimal | None
    avg_win: Decimal | None
    avg_loss: Decimal | None
    confidence: Decimal
    market_regime: MarketRegime | None
    # The product, when known: its contract size turns notional into contracts, its grid and minimum
    # size are what a recommendation is quantized to.
    product: Product | None
    trade_count: int | None

    def __init__(
        self,
        symbol: str,
        current_price: Number,
        portfolio_value: Number,
        strategy_name: str = "",
        win_rate: Number | None = None,
        avg_win: Number | None = None,
        avg_loss: Number | None = None,
        confidence: Number = Decimal(1),
        market_regime: MarketRegime | str | None = None,
        product: Product | None = None,
        trade_count: int | None = None,
    ) -> None:
        loss = _optional("avg_loss", avg_loss)
        values = {
            "symbol": symbol,
            "current_price": to_decimal("current_price", current_price),
            "portfolio_value": to_decimal("portfolio_value", portfolio_value),
            "strategy_name": strategy_name,
            "win_rate": _optional("win_rate", win_rate),
            "avg_win": _optional("avg_win", avg_win),
            "avg_loss": None if loss is None else abs(loss),  # a loss is a magnitude, however it is written
            "confidence": to_decimal("confidence", confidence),
            "market_regime": _regime(market_regime),
            "product": product,
            "trade_count": trade_count,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)
        self._check()

    def completed(
        self,
        win_rate: Decimal | None,
        avg_win: Decimal | None,
        avg_loss: Decimal | None,
        trade_count: int | None,
        market_regime: MarketRegime | None,
    ) -> "PositionSizeRequest":
        """This request with the edge estimate and the regime the risk manager keeps (values it has checked
        already: copied, not converted again; a sizing per decision in a backtest makes this hot)."""
        inputs = {
            "win_rate": win_rate,
            "avg_win": avg_win,
            "avg_loss": avg_loss,
            "trade_count": trade_count,
            "market_regime": market_regime,
        }
        other = object.__new__(PositionSizeRequest)
        for name in self.__slots__:
            object.__setattr__(other, name, inputs[name] if name in inputs else getattr(self, name))
        return other

    def _check(self) -> None:
        if self.current_price <= 0:
            raise ValueError(f"current_price must be positive, got {self.current_price}")
        if not Decimal(0) <= self.confidence <= Decimal(1):
            raise ValueError(f"confidence must be within [0, 1], got {self.confidence}")
        if self.win_rate is not None and not Decimal(0) <= self.win_rate <= Decimal(1):
            raise ValueError(f"win_rate must be within [0, 1], got {self.win_rate}")
        if self.avg_win is not None and self.avg_win < 0:
            raise ValueError(f"avg_win is a magnitude and must not be negative, got {self.avg_win}")
        if self.trade_count is not None and self.trade_count < 0:
            raise ValueError(f"trade_count must not be negative, got {self.trade_count}")


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
    inputs are estimates). Without an edge estimate, or with a negative edge, the size is zero.

    An estimate resting on fewer than `min_trades` round trips is too thin to size by: such a request is
    sized at the fixed `floor_fraction` instead (reason `kelly_floor`), which is how a strategy builds the
    record Kelly needs. A request without a trade count (an estimate given by hand) is taken as it is."""

    fraction_cap: Decimal = Decimal("0.25")
    guardrails: SizingGuardrails = SizingGuardrails()
    min_trades: int = 0
    floor_fraction: Decimal = Decimal(0)

    def calculate_position_size(self, request: PositionSizeRequest) -> PositionSizeRecommendation:
        if request.trade_count is not None and request.trade_count < self.min_trades:
            floor = f"kelly_floor_{request.trade_count}_of_{self.min_trades}_trades"
            return self.guardrails.apply(request, self.floor_fraction, "kelly", [floor])
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


def _regime_scales(sizing: SizingConfig) -> dict[MarketRegime, Decimal]:
    return dict(sizing.regime_scales)


def _default_kelly() -> KellySizer:
    """Kelly with the default sizing settings and no account limits: the research notebooks' sizer."""
    sizing = SizingConfig(method="kelly")
    guardrails = SizingGuardrails(min_fraction=sizing.min_fraction, regime_scales=_regime_scales(sizing))
    return KellySizer(sizing.kelly_fraction_cap, guardrails)


DEFAULT_KELLY = _default_kelly()


def calculate_position_size(
    request: PositionSizeRequest, sizer: PositionSizer = DEFAULT_KELLY
) -> PositionSizeRecommendation:
    """Size `request` with the default Kelly sizer (cap 0.25, the default regime scales), or `sizer`."""
    return sizer.calculate_position_size(request)


def sizer_from_config(config: BotConfig) -> PositionSizer:
    """The configured sizer, bounded by the risk section and the per-symbol limits file. The regime scales
    are Kelly's (as `SizingConfig` says): a fixed fraction or notional is what the profile fixed, and a
    canary's smallest useful size, scaled below `min_fraction`, would be no order at all."""
    limits = TradeLimits.from_config(config)
    sizing = config.sizing
    guardrails = SizingGuardrails(
        min_fraction=sizing.min_fraction,
        max_fraction=limits.max_position_fraction,
        max_notional=limits.max_notional,
        max_size=limits.max_size,
        regime_scales=_regime_scales(sizing) if sizing.method == "kelly" else {},
    )
    if sizing.method == "kelly":
        return KellySizer(sizing.kelly_fraction_cap, guardrails, sizing.kelly_min_trades, sizing.kelly_floor_fraction)
    if sizing.method == "fixed_notional":
        assert sizing.notional is not None  # the config requires it for this method
        return FixedNotionalSizer(sizing.notional, guardrails)
    return FixedFractionSizer(sizing.fraction, guardrails)
