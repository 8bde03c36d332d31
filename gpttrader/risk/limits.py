"""The limits an order is held to, resolved once from the configuration: the per-symbol caps come from
the risk section and the limits file together (the stricter wins)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from gpttrader.config.models import BotConfig, TradingWindow


@dataclass(frozen=True)
class TradeLimits:
    max_notional: Mapping[str, Decimal] = field(default_factory=dict)
    max_size: Mapping[str, Decimal] = field(default_factory=dict)
    max_leverage: Mapping[str, Decimal] = field(default_factory=dict)
    default_leverage: Decimal = Decimal(1)
    max_position_fraction: Decimal = Decimal(1)
    max_exposure_fraction: Decimal = Decimal(1)
    max_impact_bps: Decimal = Decimal(50)
    max_mark_age_seconds: Decimal | None = None
    trading_window: TradingWindow | None = None

    def leverage_for(self, symbol: str) -> Decimal:
        return self.max_leverage.get(symbol, self.default_leverage)

    @classmethod
    def from_config(cls, config: BotConfig) -> "TradeLimits":
        caps: dict[str, Decimal] = {}
        leverage: dict[str, Decimal] = {}
        for symbol in config.symbols:
            candidates = (
                [] if config.risk.max_notional_per_position is None else [config.risk.max_notional_per_position]
            )
            limit = None if config.risk_limits is None else config.risk_limits.for_symbol(symbol)
            if limit is not None:
                candidates.append(limit.max_notional)
                leverage[symbol] = min(limit.max_leverage, config.risk.max_leverage)
            if candidates:
                caps[symbol] = min(candidates)
        stale = config.guards.stale_market_data
        return cls(
            max_notional=caps,
            max_size=dict(config.risk.max_position_size),
            max_leverage=leverage,
            default_leverage=config.risk.max_leverage,
            max_position_fraction=config.risk.max_position_fraction,
            max_exposure_fraction=config.risk.max_exposure_fraction,
            max_impact_bps=config.risk.max_impact_bps,
            max_mark_age_seconds=stale.limit if stale.enabled else None,
            trading_window=config.trading_window,
        )
