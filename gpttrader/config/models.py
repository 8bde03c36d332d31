"""The shape of a bot's configuration. Defaults are the production values; profiles state what differs.

Every model forbids unknown keys: a misspelt limit that is silently ignored is a limit that is not there.
"""

import re
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gpttrader.config.guards import Guards
from gpttrader.config.risk_limits import RiskLimits
from gpttrader.config.secrets import ALERT_WEBHOOK_VARIABLE, Credentials, Secret
from gpttrader.config.strategy_params import StrategyParameterError, strategy_arguments
from gpttrader.config.validation import located_error
from gpttrader.domain import Granularity, MarketRegime, TimeInForce
from gpttrader.domain.client_ids import MAX_LENGTH, PREFIX, ClientIds, longest_decision_id
from gpttrader.domain.symbols import SymbolError, is_perpetual_id, normalize_symbol
from gpttrader.domain.values import MAX_FEE_RATE, require_utc

ProfileName = Literal["dev", "paper", "canary", "prod"]
PROFILE_NAMES: tuple[ProfileName, ...] = ("dev", "paper", "canary", "prod")
LIVE_PROFILES: frozenset[str] = frozenset({"canary", "prod"})
BrokerKind = Literal["deterministic", "paper", "coinbase"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]

PositiveDecimal = Annotated[Decimal, Field(gt=0)]
NonNegativeDecimal = Annotated[Decimal, Field(ge=0)]
Fraction = Annotated[Decimal, Field(gt=0, le=1)]
PositiveInt = Annotated[int, Field(gt=0)]

_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TradingWindow(Section):
    """A daily UTC window in which new risk may be opened; it may wrap midnight (22:00-02:00)."""

    start: time
    end: time

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock_string(cls, value: object) -> object:
        # YAML 1.1 reads an unquoted 14:00 as the integer 840; refuse anything but "HH:MM".
        if isinstance(value, time):
            return value
        if not isinstance(value, str) or not _CLOCK.match(value):
            raise ValueError('must be a quoted "HH:MM" string in UTC, e.g. "14:00"')
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> "TradingWindow":
        if self.start == self.end:
            raise ValueError("start and end are equal: the window would be empty")
        return self

    def contains(self, moment: datetime) -> bool:
        now = require_utc("moment", moment).time()
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end


class CoinbaseSettings(Section):
    sandbox_url: str | None = None
    sandbox_certificate: Path | None = None
    # Coinbase's own limits; a sandbox session on a virtual clock may raise them (the sandbox enforces none).
    private_requests_per_second: PositiveInt = 30
    public_requests_per_second: PositiveInt = 10
    # The WebSocket feed (marks from the ticker, order updates from the user channel); off, the bot reads
    # both by REST each cycle.
    websocket: bool = True
    # The day INTX perpetuals' order entry left Advanced Trade for Coinbase's separate INTX gateway (as
    # announced); from then a live profile does not start with an INTX perpetual. An account that still has
    # INTX order entry on Advanced Trade sets the day its own moves.
    intx_cutover: date = date(2026, 10, 1)

    @field_validator("sandbox_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^(https?|wss?)://[^\s/]+(:\d+)?/?$", value):
            raise ValueError("must be a base URL like https://127.0.0.1:8443")
        return value


class RiskConfig(Section):
    """Pre-trade limits and the windows the runtime guards measure over (the guards' rules are in `guards`)."""

    limits_file: str | None = "spot_top10"
    max_position_size: dict[str, PositiveDecimal] = Field(default_factory=dict)
    max_notional_per_position: PositiveDecimal | None = None
    max_exposure_fraction: Fraction = Decimal("0.60")
    max_position_fraction: Fraction = Decimal("0.18")
    max_leverage: Annotated[Decimal, Field(ge=1)] = Decimal(1)
    # How far a market order's walk through the book may average from the touch: refused beyond (the impact
    # check). Its price is bounded at the exchange by execution.slippage_tolerance_bps.
    max_impact_bps: NonNegativeDecimal = Decimal(50)
    use_order_preview: bool = False
    volatility_window: Annotated[int, Field(ge=2)] = 20
    correlation_window: Annotated[int, Field(ge=2)] = 240
    error_rate_window: PositiveInt = 20
    api_error_window_seconds: PositiveInt = 300

    @field_validator("max_position_size")
    @classmethod
    def _position_size_symbols(cls, sizes: dict[str, Decimal]) -> dict[str, Decimal]:
        """Keyed by product id, in any form the profile's `symbols` accept (normalized the same way)."""
        normalized: dict[str, Decimal] = {}
        for symbol, size in sizes.items():
            try:
                key = normalize_symbol(symbol)
            except SymbolError as exc:
                raise located_error(symbol, symbol, str(exc)) from None
            if key in normalized:
                raise located_error(symbol, symbol, f"names {key} a second time")
            normalized[key] = size
        return normalized


# Bear and volatile markets get smaller positions: an estimated edge is least reliable there.
DEFAULT_REGIME_SCALES: dict[MarketRegime, Decimal] = {
    MarketRegime.BULL_QUIET: Decimal(1),
    MarketRegime.BULL_VOLATILE: Decimal("0.75"),
    MarketRegime.SIDEWAYS_QUIET: Decimal("0.75"),
    MarketRegime.SIDEWAYS_VOLATILE: Decimal("0.5"),
    MarketRegime.BEAR_QUIET: Decimal("0.5"),
    MarketRegime.BEAR_VOLATILE: Decimal("0.25"),
}


class SizingConfig(Section):
    """How much to trade. Kelly's guardrails: the fraction is capped (`kelly_fraction_cap`), scaled by the
    signal's confidence and the market regime, dropped to zero below `min_fraction` and cut to
    `risk.max_position_fraction`."""

    method: Literal["fixed_fraction", "fixed_notional", "kelly"] = "fixed_fraction"
    fraction: Fraction = Decimal("0.1")
    notional: PositiveDecimal | None = None
    kelly_fraction_cap: Fraction = Decimal("0.25")
    min_fraction: Annotated[Decimal, Field(ge=0, lt=1)] = Decimal("0.001")
    regime_scales: dict[MarketRegime, Annotated[Decimal, Field(ge=0, le=1)]] = Field(
        default_factory=lambda: dict(DEFAULT_REGIME_SCALES)
    )
    # Kelly's edge comes from the strategy's own round trips (gpttrader.risk.edge), shrunk toward no edge by
    # a prior of `kelly_prior_trades` imaginary trips; with fewer than `kelly_min_trades` behind it, a
    # position is `kelly_floor_fraction` of equity (0: none until the record is long enough). At start the
    # record is seeded with a backtest of the strategy on the last `edge_seed_bars` bars (0: no seed).
    kelly_min_trades: Annotated[int, Field(ge=0)] = 20
    kelly_floor_fraction: Annotated[Decimal, Field(ge=0, le=1)] = Decimal("0.01")
    kelly_prior_trades: Annotated[int, Field(ge=0)] = 10
    # Only the trips of the last `kelly_window_days` count: a strategy Kelly stopped (a non-positive edge
    # makes no trips to change its mind) falls back below kelly_min_trades as they age out, and trades again
    # at the floor, where its record can recover.
    kelly_window_days: Annotated[int, Field(ge=1)] = 90
    edge_seed_bars: Annotated[int, Field(ge=0, le=20_000)] = 1440
    # The market regime (gpttrader.risk.regime): the trend over `regime_trend_bars` bars, the realized
    # volatility over `regime_volatility_bars` bars against its own recent history.
    regime_trend_bars: Annotated[int, Field(ge=2)] = 50
    regime_volatility_bars: Annotated[int, Field(ge=2)] = 20

    @model_validator(mode="after")
    def _complete(self) -> "SizingConfig":
        if self.method == "fixed_notional" and self.notional is None:
            raise ValueError("method fixed_notional needs sizing.notional")
        missing = sorted(set(MarketRegime) - set(self.regime_scales))
        if missing:
            raise ValueError(f"sizing.regime_scales lacks {', '.join(missing)}")
        return self


class ExecutionConfig(Section):
    order_type: Literal["limit", "market"] = "limit"
    time_in_force: TimeInForce = TimeInForce.GTC
    # A market order goes out as a limit this far from the mark (IOC or as time_in_force says), so a thin
    # book cannot fill it anywhere; execution.order_type market sends it unbounded.
    slippage_tolerance_bps: NonNegativeDecimal = Decimal(20)
    # Open orders on the exchange that the orders store does not know (placed by hand, or by another bot):
    # cancelled by default, since the bot cannot account for what it did not decide; or adopted.
    unknown_orders: Literal["cancel", "adopt"] = "cancel"
    reconcile_every_cycles: PositiveInt = 10
    # An order whose send ended without a definite answer is looked up by its client order id (with
    # backoff) for this long; still not found, its product stays blocked and the bot goes reduce-only.
    unresolved_order_seconds: PositiveInt = 300
    # The kill switch retries cancelling and flattening (with backoff) for this long before it reports
    # what is left.
    kill_deadline_seconds: PositiveInt = 60
    # Starts every client order id (default: the profile name), so that bots sharing one Coinbase account
    # never build the same id and each cancels only its own orders (gpttrader.domain.client_ids).
    client_id_prefix: str | None = None
    # Another bot or a person trades this account's spot currencies: holdings that move outside the bot's
    # books are flagged (the holdings_moved alert) and taken as the new baseline instead of halting; the bot
    # still halts when the account holds less than its own position.
    shared_account: bool = False
    # A target the position and working orders have not met for this many bars raises an alert.
    target_unmet_alert_bars: PositiveInt = 5
    # Tries to place a filled entry's exit before its product goes reduce-only with an alert.
    exit_place_attempts: PositiveInt = 3
    # An error inside a cycle that is not the exchange's (a strategy's bug, a store's): recorded and counted
    # toward the error-rate guard either way; then the loop goes on, or stops and the session's kill switch
    # flattens (nothing watches positions once the loop is gone).
    on_cycle_error: Literal["continue", "halt"] = "halt"

    @field_validator("client_id_prefix")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        if value is not None and not PREFIX.match(value):
            raise ValueError("must be 1 to 32 letters, digits or underscores (no hyphen)")
        return value


class OrderLimits(Section):
    per_minute: PositiveInt = 10
    per_hour: PositiveInt = 200
    per_day: PositiveInt = 1000
    min_interval_seconds: Annotated[int, Field(ge=0)] = 0


class PaperConfig(Section):
    """The simulated account of the dev and paper brokers, on their first run (later runs keep theirs)."""

    starting_cash: PositiveDecimal = Decimal(100_000)
    # The fee rates the simulated venue charges and a backtest prices with, a fraction of the notional per
    # side (Coinbase's entry tier by default). A live bot reads its account's tier from Coinbase instead.
    maker_fee_rate: Annotated[Decimal, Field(ge=0, le=MAX_FEE_RATE)] = Decimal("0.004")
    taker_fee_rate: Annotated[Decimal, Field(ge=0, le=MAX_FEE_RATE)] = Decimal("0.006")


class AlertsConfig(Section):
    """Where alerts go besides the log and the event store: a webhook, its URL from the environment only
    (GPTTRADER_ALERT_WEBHOOK_URL, a secret, never shown), posted as the alert's JSON or Slack's `{"text"}`."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    webhook_format: Literal["json", "slack"] = "json"
    webhook_url: Secret | None = Field(default=None, exclude=True, repr=False)

    @model_validator(mode="before")
    @classmethod
    def _url_from_environment(cls, data: Any) -> Any:
        # Refused at the section (never the field), so that the error does not repeat the URL.
        if isinstance(data, dict) and not isinstance(data.get("webhook_url"), Secret | None):
            raise ValueError("alerts.webhook_url comes from GPTTRADER_ALERT_WEBHOOK_URL only, never a file")
        return data


class StrategyConfig(Section):
    """The strategy, its parameters and its bar size: it decides on each closed bar of `granularity` (any
    width Coinbase serves candles in), live as in its backtest."""

    name: str = "baseline"
    params: dict[str, Any] = Field(default_factory=dict)
    granularity: Granularity = Granularity.ONE_MINUTE

    @field_validator("granularity", mode="before")
    @classmethod
    def _granularity(cls, value: Any) -> Granularity:
        return Granularity.parse(value)  # a name or a width in seconds; the error lists the choices

    @model_validator(mode="after")
    def _declared_parameters(self) -> "StrategyConfig":
        # Checked here, not when the bot builds the strategy: a typo must stop `config show` and `run`
        # before anything starts. The params stay as written (the registry converts them when it builds).
        try:
            strategy_arguments(self.name, self.params)
        except StrategyParameterError as exc:
            raise located_error(exc.field, exc.value, str(exc)) from None
        return self


class BotConfig(Section):
    """The resolved configuration of one bot: profile YAML, then environment, then explicit arguments."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    profile: ProfileName
    broker: BrokerKind
    symbols: tuple[str, ...] = Field(min_length=1)
    interval_seconds: PositiveInt = 60
    log_level: LogLevel = "INFO"
    derivatives_enabled: bool = False
    data_dir: Path = Path("data")
    # How often a running bot backs up its stores (also at its shutdown); the last few are kept.
    store_backup_interval_seconds: PositiveInt = 3600
    trading_window: TradingWindow | None = None
    coinbase: CoinbaseSettings = CoinbaseSettings()
    risk: RiskConfig = RiskConfig()
    guards: Guards = Guards()
    sizing: SizingConfig = SizingConfig()
    execution: ExecutionConfig = ExecutionConfig()
    order_limits: OrderLimits = OrderLimits()
    strategy: StrategyConfig = StrategyConfig()
    paper: PaperConfig = PaperConfig()
    alerts: AlertsConfig = AlertsConfig()
    # Set by the loader only: never from a profile file (see gpttrader.config.loader).
    risk_limits: RiskLimits | None = None
    credentials: Credentials | None = Field(default=None, exclude=True, repr=False)

    @field_validator("symbols")
    @classmethod
    def _product_ids(cls, symbols: tuple[str, ...]) -> tuple[str, ...]:
        # Any accepted form (btc-usd, BTC/USD, BTCUSD) becomes Coinbase's id; only the form is checked here
        # (no network): an id the venue does not list is refused at the bot's start, naming the nearest.
        normalized = []
        for index, symbol in enumerate(symbols):
            try:
                normalized.append(normalize_symbol(symbol))
            except SymbolError as exc:
                raise located_error(str(index), symbol, str(exc)) from None
        if len(set(normalized)) != len(normalized):
            raise ValueError(f"symbols must not repeat (normalized: {', '.join(normalized)})")
        return tuple(normalized)

    @model_validator(mode="after")
    def _consistent(self) -> "BotConfig":
        # No listing is read yet: perpetuals are told by their ids (the domain's one config-time rule).
        perps = [s for s in self.symbols if is_perpetual_id(s)]
        if perps and not self.derivatives_enabled:
            raise ValueError(
                f"symbols {', '.join(perps)} are perpetuals: set COINBASE_ENABLE_DERIVATIVES=1 to trade them"
            )
        if self.risk_limits is not None:
            uncovered = [s for s in self.symbols if self.risk_limits.for_symbol(s) is None and not is_perpetual_id(s)]
            if uncovered:
                raise ValueError(
                    f"symbols {', '.join(uncovered)} have no limits in risk limits {self.risk_limits.name!r} "
                    f"(covered: {', '.join(self.risk_limits.symbols)})"
                )
            if self.risk.max_leverage > self.risk_limits.max_leverage:
                raise ValueError(
                    f"risk.max_leverage {self.risk.max_leverage} exceeds the limits file's "
                    f"max_leverage {self.risk_limits.max_leverage}"
                )
        prefix = self.execution.client_id_prefix or self.profile
        longest = longest_decision_id(prefix, self.symbols, self.strategy.name)
        if longest > MAX_LENGTH:
            raise located_error(
                "strategy.name",
                self.strategy.name,
                f"client order ids would reach {longest} characters with this strategy name, prefix and symbols; "
                f"Coinbase takes at most {MAX_LENGTH}",
            )
        unknown = sorted(set(self.risk.max_position_size) - set(self.symbols))
        if unknown:
            raise ValueError(f"risk.max_position_size names {', '.join(unknown)}, which are not in symbols")
        return self

    def to_display_dict(self) -> dict[str, Any]:
        """Everything resolved, JSON-ready, with credentials reduced to their source and a key hint."""
        shown = self.model_dump(mode="json")
        shown["credentials"] = None if self.credentials is None else self.credentials.describe()
        # Whether alerts leave the machine, which an operator checks first, without the URL (a secret).
        shown["alerts"]["webhook"] = (
            "not set" if self.alerts.webhook_url is None else f"set from {ALERT_WEBHOOK_VARIABLE}"
        )
        return shown

    @property
    def is_live(self) -> bool:
        """True when orders go to Coinbase with real money (canary, prod, or dev forced live)."""
        return self.broker == "coinbase"

    @property
    def client_ids(self) -> ClientIds:
        """Builds this bot's client order ids (see gpttrader.domain.client_ids)."""
        return ClientIds(self.execution.client_id_prefix or self.profile)

    @property
    def state_dir(self) -> Path:
        return self.data_dir / "state" / self.profile
