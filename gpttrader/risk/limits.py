"""The limits an order is held to, resolved once from the configuration: the per-symbol caps come from
the risk section and the limits file together (the stricter wins), the order-rate limits from
`order_limits`."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from gpttrader.config.models import BotConfig, TradingWindow

MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


@dataclass(frozen=True)
class OrderRate:
    """How many orders the bot may decide and send: at most `per_minute` (`per_hour`, `per_day`) in any
    minute (hour, day) counted back from the order being checked, that end included, and no order sooner
    than `min_interval` after the last one (`order_limits` of the profile)."""

    per_minute: int | None = None
    per_hour: int | None = None
    per_day: int | None = None
    min_interval: timedelta = timedelta(0)

    def windows(self) -> tuple[tuple[str, timedelta, int], ...]:
        """(name, span, most orders) of each limit set, shortest first."""
        spans = (("minute", MINUTE, self.per_minute), ("hour", HOUR, self.per_hour), ("day", DAY, self.per_day))
        return tuple((name, span, cap) for name, span, cap in spans if cap is not None)

    @property
    def lookback(self) -> timedelta:
        """How far back the send times must reach for every limit to be judged: the longest window, or the
        interval when it is longer."""
        return max([self.min_interval, *(span for _, span, _ in self.windows())])


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
    order_rate: OrderRate = OrderRate()  # none set: no order-rate limit (a bare TradeLimits())

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
            order_rate=OrderRate(
                per_minute=config.order_limits.per_minute,
                per_hour=config.order_limits.per_hour,
                per_day=config.order_limits.per_day,
                min_interval=timedelta(seconds=config.order_limits.min_interval_seconds),
            ),
        )
