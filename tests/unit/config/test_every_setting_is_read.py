"""Every setting has a reader, proven: a field of `BotConfig` that no code reads protects no one.

`READERS` maps each field (a guard's rule fields once for all guards, and each guard to the code that feeds
its metric) to the functions that read it. It is checked both ways: every field has an entry and every entry
names a field; and each reader's source reads the field (`.name`, or the metric's name for a guard), so
deleting the read, or the reader, fails here.
"""

import functools
import importlib
import inspect
from typing import Any

import pytest
from pydantic import BaseModel

from gpttrader.config.models import BotConfig
from gpttrader.config.validation import section_model
from gpttrader.risk.guards import GUARD_METRICS

BOT = "gpttrader.engine.bot:TradingBot"
FEED = "gpttrader.engine.guard_feed:GuardFeed"
COORDINATOR = "gpttrader.engine.execution_coordinator:ExecutionCoordinator"
CONTAINER = "gpttrader.app.container:ApplicationContainer"
FACTORY = "gpttrader.brokers.coinbase.factory"
LIMITS = "gpttrader.risk.limits:TradeLimits.from_config"
SIZER = "gpttrader.risk.sizing:sizer_from_config"
MANAGER = "gpttrader.risk.manager:LiveRiskManager.from_config"

READERS: dict[str, tuple[str, ...]] = {
    "profile": ("gpttrader.config.models:BotConfig.state_dir", "gpttrader.config.models:BotConfig.client_ids"),
    "broker": (f"{CONTAINER}.broker",),
    "symbols": (f"{BOT}.prepare", LIMITS),
    "interval_seconds": (f"{BOT}._next_cycle", "gpttrader.engine.refresh:AccountRefresh.marks"),
    "log_level": ("gpttrader.app.commands.run:_run",),
    "derivatives_enabled": (f"{FACTORY}:create_coinbase_broker", f"{CONTAINER}.paper_broker"),
    "data_dir": ("gpttrader.config.models:BotConfig.state_dir",),
    "store_backup_interval_seconds": (f"{CONTAINER}.claim",),
    "trading_window": (LIMITS,),
    "trading_window.start": ("gpttrader.risk.checks:trading_window",),
    "trading_window.end": ("gpttrader.risk.checks:trading_window",),
    "coinbase.sandbox_url": (f"{FACTORY}:rest_host",),
    "coinbase.intx_cutover": ("gpttrader.app.intx_cutover:moved_perpetuals",),
    "coinbase.sandbox_certificate": (f"{FACTORY}:create_rest_client",),
    "coinbase.private_requests_per_second": (f"{FACTORY}:create_coinbase_broker",),
    "coinbase.public_requests_per_second": (f"{FACTORY}:create_market_data",),
    "coinbase.websocket": (f"{CONTAINER}.create_bot",),
    "risk.limits_file": ("gpttrader.config.loader:load_config",),
    "risk.max_position_size": (LIMITS,),
    "risk.max_notional_per_position": (LIMITS,),
    "risk.max_exposure_fraction": (LIMITS,),
    "risk.max_position_fraction": (LIMITS,),
    "risk.max_leverage": (LIMITS,),
    "risk.max_impact_bps": (LIMITS, "gpttrader.risk.checks:impact_cost"),
    "risk.use_order_preview": (MANAGER,),
    "risk.volatility_window": (MANAGER, f"{BOT}.prepare"),
    "risk.correlation_window": (MANAGER, f"{FEED}.__init__"),
    "risk.error_rate_window": (MANAGER, f"{FEED}.__init__"),
    "risk.api_error_window_seconds": (MANAGER, f"{FEED}.__init__"),
    "guards.*.enabled": ("gpttrader.risk.guards:build_guards",),
    "guards.*.comparison": ("gpttrader.risk.guards:Guard",),
    "guards.*.limit": ("gpttrader.risk.guards:Guard",),
    "guards.*.warn_at": ("gpttrader.config.guards:GuardConfig.warning_threshold",),
    "guards.*.action": ("gpttrader.risk.guards:Guard",),
    "guards.*.cooldown_seconds": ("gpttrader.risk.manager:LiveRiskManager._transition",),
    "guards.*.message": ("gpttrader.risk.guards:Guard",),
    "guards.*.unit": ("gpttrader.risk.guards:guard_metric", "gpttrader.app.preflight:_products"),
    # A guard is read by the code that feeds its metric (the live loop; the backtest's where it has one).
    "guards.daily_loss": ("gpttrader.risk.metrics:EquityTracker.update",),
    "guards.hourly_loss": ("gpttrader.risk.metrics:EquityTracker.update",),
    "guards.max_drawdown": ("gpttrader.risk.metrics:EquityTracker.update",),
    "guards.consecutive_losses": (f"{FEED}.observe", "gpttrader.backtest.runner:_GuardInputs.transitions"),
    "guards.error_rate": (f"{FEED}.cycle_done",),
    "guards.api_errors": (f"{FEED}.observe",),
    "guards.stale_market_data": (f"{FEED}.observe",),
    "guards.liquidation_buffer": (f"{FEED}.observe",),
    "guards.volatility": (f"{FEED}.observe", "gpttrader.backtest.runner:_GuardInputs.transitions"),
    "guards.volatility_kill_switch": (f"{FEED}.observe",),
    "guards.concentration": (f"{FEED}._observe_concentration", "gpttrader.backtest.runner:_GuardInputs.transitions"),
    "guards.spread": (f"{FEED}._observe_books",),
    "guards.depth": (f"{FEED}._observe_books",),
    "sizing.method": (SIZER,),
    "sizing.fraction": (SIZER,),
    "sizing.notional": (SIZER,),
    "sizing.kelly_fraction_cap": (SIZER,),
    "sizing.min_fraction": (SIZER,),
    "sizing.regime_scales": ("gpttrader.risk.sizing:_regime_scales",),
    "sizing.kelly_min_trades": (SIZER,),
    "sizing.kelly_floor_fraction": (SIZER,),
    "sizing.kelly_prior_trades": (MANAGER,),
    "sizing.kelly_window_days": (MANAGER,),
    "sizing.regime_trend_bars": ("gpttrader.risk.regime:RegimeSettings.of",),
    "sizing.regime_volatility_bars": ("gpttrader.risk.regime:RegimeSettings.of",),
    "sizing.edge_seed_bars": ("gpttrader.engine.edge_seed:seed_edges",),
    "execution.order_type": (f"{COORDINATOR}._executable",),
    "execution.time_in_force": (f"{COORDINATOR}._executable",),
    "execution.slippage_tolerance_bps": (f"{COORDINATOR}._bound",),
    "execution.unknown_orders": (f"{BOT}.reconcile",),
    "execution.reconcile_every_cycles": (f"{BOT}.cycle",),
    "execution.unresolved_order_seconds": (f"{COORDINATOR}.resolve_unknown",),
    "execution.kill_deadline_seconds": (f"{BOT}.kill", "gpttrader.app.commands.run:_kill"),
    "execution.client_id_prefix": ("gpttrader.config.models:BotConfig.client_ids",),
    "execution.shared_account": (f"{BOT}.reconcile",),
    "execution.target_unmet_alert_bars": ("gpttrader.engine.cycle_state:StateReader._health",),
    "execution.exit_place_attempts": (f"{COORDINATOR}._protect",),
    "execution.on_cycle_error": (f"{BOT}.cycle",),
    "order_limits.per_minute": (LIMITS,),
    "order_limits.per_hour": (LIMITS,),
    "order_limits.per_day": (LIMITS,),
    "order_limits.min_interval_seconds": (LIMITS,),
    "strategy.name": (f"{CONTAINER}.create_bot",),
    "strategy.params": (f"{CONTAINER}.create_bot",),
    "strategy.granularity": (f"{BOT}.prepare",),
    "paper.starting_cash": (f"{CONTAINER}.paper_broker",),
    "paper.maker_fee_rate": (f"{CONTAINER}.fee_schedule", "gpttrader.app.commands.backtest:_backtest"),
    "paper.taker_fee_rate": (f"{CONTAINER}.fee_schedule", "gpttrader.app.commands.backtest:_backtest"),
    "alerts.webhook_format": ("gpttrader.monitoring.delivery:webhook_delivery",),
    "alerts.webhook_url": ("gpttrader.monitoring.delivery:webhook_delivery",),
    "risk_limits": ("gpttrader.config.loader:load_config", LIMITS),
    "risk_limits.name": ("gpttrader.config.models:BotConfig._consistent",),
    "risk_limits.max_leverage": ("gpttrader.config.models:BotConfig._consistent",),
    "risk_limits.symbols": ("gpttrader.config.risk_limits:RiskLimits.for_symbol",),
    "risk_limits.symbols.max_notional": (LIMITS,),
    "risk_limits.symbols.max_leverage": (LIMITS,),
    "credentials": (f"{FACTORY}:create_rest_client",),
}


def fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every field's path; a section's too (it is read as a whole where it may be absent)."""
    found = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        section = section_model(info.annotation)
        if prefix == "guards.":  # the rule's fields once for all guards, and the guard itself
            found.append(path)
            found += [f"guards.*.{rule}" for rule in section.model_fields] if section else []
            continue
        if section is None or name == "credentials":
            found.append(path)
            continue
        if _optional(info.annotation) or _mapping(info.annotation):
            found.append(path)
        found += fields(section, f"{path}.")
    return sorted(set(found))


def _optional(annotation: Any) -> bool:
    return type(None) in getattr(annotation, "__args__", ())


def _mapping(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) is dict


def reader_source(reader: str) -> str:
    module_name, _, qualname = reader.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    if isinstance(target, property):
        target = target.fget
    if isinstance(target, functools.cached_property):
        target = target.func
    return inspect.getsource(target)


def token(path: str) -> tuple[str, ...]:
    """What a reader's source must contain: the field read by name, or a guard's metric fed by name."""
    parts = path.split(".")
    if parts[0] == "guards" and len(parts) == 2:
        return (f'"{GUARD_METRICS[parts[1]]}"',)
    return (f".{parts[-1]}", f'"{parts[-1]}"')


def test_every_field_has_a_reader_and_every_reader_a_field() -> None:
    walked = set(fields(BotConfig))
    assert sorted(walked - set(READERS)) == [], "settings no code is known to read"
    assert sorted(set(READERS) - walked) == [], "readers of settings that do not exist"


@pytest.mark.parametrize("path", sorted(READERS))
def test_each_reader_reads_its_field(path: str) -> None:
    for reader in READERS[path]:
        source = reader_source(reader)
        assert any(t in source for t in token(path)), f"{reader} does not read {path}"


def test_a_field_without_its_reader_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check bites: a reader whose read was removed is found out."""
    monkeypatch.setitem(READERS, "order_limits.per_minute", ("gpttrader.risk.checks:impact_cost",))
    with pytest.raises(AssertionError, match="does not read order_limits.per_minute"):
        test_each_reader_reads_its_field("order_limits.per_minute")
