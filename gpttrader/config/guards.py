"""Runtime guard settings: for each shipped guard, how its metric is compared, its limit, its warning band
and what a breach does.

The metric behind each guard is fixed by its name (the risk layer computes it); what is configurable is
the rule. A warning band is given as a share of the limit (`warn_at`), not as a second absolute number, so
that a profile which only lowers a limit (the canary's 1% daily loss) keeps a sensible warning with it.

The loss guards' limits are a share of equity by default (`unit: fraction`, 0.02 = 2% of the equity at the
start of the window): a limit in dollars fits one account size only (the $100 hourly loss that one BTC round
trip's fees on a $100,000 paper account exceed). `unit: usd` keeps a limit in the quote currency.
"""

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Comparison = Literal["gt", "ge", "lt", "le", "abs_gt", "abs_lt"]
GuardAction = Literal["warn", "reduce_only", "halt"]
LossUnit = Literal["fraction", "usd"]
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


class LossGuardConfig(GuardConfig):
    """A loss guard's rule: its limit is a share of the equity at the start of its window (`fraction`, the
    default) or an amount of the quote currency (`usd`)."""

    unit: LossUnit = "fraction"

    @model_validator(mode="after")
    def _share_at_most_one(self) -> "LossGuardConfig":
        # A share above 1 is almost surely a dollar limit written without its unit (a profile from before
        # limits were shares): refused, not read as a limit that can never trip.
        if self.unit == "fraction" and self.limit > 1:
            raise ValueError(
                f"limit {self.limit} is a share of equity (0.02 = 2%) and must be at most 1; "
                "for a limit in dollars set unit: usd"
            )
        return self


def _guard(comparison: Comparison, limit: str, action: GuardAction, message: str, **extra: object) -> GuardConfig:
    return GuardConfig.model_validate(
        {"comparison": comparison, "limit": Decimal(limit), "action": action, "message": message, **extra}
    )


def _loss_guard(limit: str, message: str) -> LossGuardConfig:
    return LossGuardConfig.model_validate(
        {"comparison": "ge", "limit": Decimal(limit), "action": "reduce_only", "message": message}
    )


class Guards(BaseModel):
    """The shipped guards. Defaults follow the public GPT-Trader values where it has one, except the
    volatility thresholds (see `volatility`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Shares of the window's opening equity, marked to market, fees included. On the paper account's
    # $100,000 a BTC round trip's fees (0.6% a side of a 10% position) cost 0.12%: an hour of the demo's
    # churn stays well inside 2%, while a strategy losing 2% of the account in an hour or 5% in a day is
    # stopped. (GPT-Trader's $100 and $250 are these shares of an account of about $5,000.)
    daily_loss: LossGuardConfig = _loss_guard("0.05", "loss since 00:00 UTC, marked to market, fees included")
    hourly_loss: LossGuardConfig = _loss_guard("0.02", "loss since the top of the hour, marked to market")
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
