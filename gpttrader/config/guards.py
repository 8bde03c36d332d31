"""Runtime guard settings: for each shipped guard, how its metric is compared, its limit, its warning band
and what a breach does.

The metric behind each guard is fixed by its name (the risk layer computes it); what is configurable is
the rule. A warning band is given as a share of the limit (`warn_at`), not as a second absolute number, so
that a profile which only lowers a limit (the canary's $10 daily loss) keeps a sensible warning with it.
"""

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Comparison = Literal["gt", "ge", "lt", "le", "abs_gt", "abs_lt"]
GuardAction = Literal["warn", "reduce_only", "halt"]
UPPER_COMPARISONS: frozenset[str] = frozenset({"gt", "ge", "abs_gt"})


class GuardConfig(BaseModel):
    """One guard's rule.

    `action` is what a breach does: `warn` is a recoverable failure (a warning in the log and a counter),
    `reduce_only` and `halt` are critical and move the bot's trading state.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    comparison: Comparison
    limit: Annotated[Decimal, Field(ge=0)]
    warn_at: Annotated[Decimal, Field(gt=0, le=1)] = Decimal("0.8")
    action: GuardAction
    cooldown_seconds: Annotated[int, Field(ge=0)] = 0
    message: str = ""

    @property
    def warning_threshold(self) -> Decimal:
        """Where the warning band starts: below an upper limit, above a lower one (`warn_at` 1 means none)."""
        if self.comparison in UPPER_COMPARISONS:
            return self.limit * self.warn_at
        return self.limit / self.warn_at


def _guard(comparison: Comparison, limit: str, action: GuardAction, message: str, **extra: object) -> GuardConfig:
    return GuardConfig.model_validate(
        {"comparison": comparison, "limit": Decimal(limit), "action": action, "message": message, **extra}
    )


class Guards(BaseModel):
    """The shipped guards. Defaults follow the public GPT-Trader values where it has one, except the
    volatility thresholds (see `volatility`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    daily_loss: GuardConfig = _guard(
        "ge", "250", "reduce_only", "loss since 00:00 UTC (quote currency, marked to market)"
    )
    hourly_loss: GuardConfig = _guard("ge", "100", "reduce_only", "loss since the top of the hour (quote currency)")
    max_drawdown: GuardConfig = _guard("ge", "0.10", "reduce_only", "fall of equity below its peak (share)")
    consecutive_losses: GuardConfig = _guard("ge", "5", "reduce_only", "closed trades lost in a row")
    error_rate: GuardConfig = _guard("gt", "0.5", "halt", "share of the recent broker calls that failed")
    api_errors: GuardConfig = _guard("ge", "10", "reduce_only", "broker errors in the API error window")
    stale_market_data: GuardConfig = _guard("gt", "30", "warn", "seconds since the product's last mark")
    liquidation_buffer: GuardConfig = _guard(
        "lt", "0.15", "reduce_only", "margin left before liquidation, as a share of equity"
    )
    # Annualized volatility of one-minute-scale returns over the volatility window. GPT-Trader's 0.18/0.22/0.28
    # would keep every crypto market permanently tripped (BTC's ordinary annualized volatility is 0.4-0.8), so
    # the breaker is set to fire on a market several times more turbulent than usual.
    # On the shipped samples the 20-minute figure has a median of 0.4-0.8 and a 99.9th percentile of 2.3-3.5.
    volatility: GuardConfig = _guard(
        "gt",
        "4.0",
        "reduce_only",
        "annualized volatility over the volatility window",
        warn_at=Decimal("0.75"),
        cooldown_seconds=1200,
    )
    volatility_kill_switch: GuardConfig = _guard(
        "gt", "8.0", "halt", "annualized volatility: kill switch level", cooldown_seconds=1200
    )
    concentration: GuardConfig = _guard(
        "gt", "1.0", "reduce_only", "correlation-weighted exposure as a share of equity"
    )
    spread: GuardConfig = _guard("gt", "50", "warn", "bid-ask spread in basis points")
    depth: GuardConfig = _guard("lt", "20000", "warn", "book depth within 50 bps of the mid (quote currency)")
