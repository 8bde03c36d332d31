"""Preflight: what must hold before a live profile may trade, each check with what to do when it fails.

INTX perpetuals only where INTX order entry still is (see intx_cutover); credentials valid and allowed to
view and trade; the local clock close to the exchange's (Coinbase rejects JWTs more than two minutes off,
and skew makes every timestamp lie); the exchange reachable; every configured product tradable; the risk
limits sane for the account's size (the bot must be able to place at least a minimum order, and the daily
loss limit must be smaller than the account); market data fresh.
"""

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from gpttrader.app.container import ApplicationContainer
from gpttrader.app.intx_cutover import moved_perpetuals, today
from gpttrader.brokers.coinbase import CoinbaseBroker
from gpttrader.brokers.errors import AuthenticationError, BrokerError
from gpttrader.config import BotConfig, ConfigError
from gpttrader.domain.symbols import is_perpetual_id
from gpttrader.risk import TradeLimits

MAX_SKEW = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class PreflightResult:
    name: str
    passed: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"[{'PASS' if self.passed else 'FAIL'}] {self.name}: {self.detail}"
        return text if self.passed else f"{text}\n       fix: {self.fix}"


@dataclass(frozen=True, slots=True)
class LiveGate:
    """Whether a profile may start trading, for every front end alike (CLI, canary notebook, panel)."""

    results: list[PreflightResult]
    refused: str | None  # why not; None when it may

    def lines(self) -> list[str]:
        shown = [result.line() for result in self.results]
        return [*shown, f"not trading: {self.refused}"] if self.refused else shown


def live_gate(container: ApplicationContainer, *, opted_in: bool) -> LiveGate:
    """A live profile trades real money only after preflight passes and with the opt-in (`opted_in`, or
    GPTTRADER_LIVE=1); preflight runs first, so that its fixes show before anyone opts in. Other
    profiles always may."""
    if not container.config.is_live:
        return LiveGate([], None)
    results = run_preflight(container)
    if not all(r.passed for r in results):
        return LiveGate(results, "preflight failed (the fixes are above)")
    if not (opted_in or os.environ.get("GPTTRADER_LIVE") == "1"):
        return LiveGate(
            results,
            f"no opt-in: profile {container.config.profile} trades real money; opt in with --live, live = True "
            "in the canary notebook or the panel's opt-in box, or GPTTRADER_LIVE=1",
        )
    return LiveGate(results, None)


def run_preflight(container: ApplicationContainer) -> list[PreflightResult]:
    config = container.config
    if config.broker != "coinbase":
        raise ConfigError(f"preflight checks profiles that trade on Coinbase; {config.profile} uses {config.broker}")
    results = _intx(config)  # first and offline: no key or network fixes a market that moved
    if config.credentials is None:
        return [
            *results,
            PreflightResult(
                "credentials",
                False,
                "no API key in the environment",
                "set COINBASE_API_KEY and COINBASE_API_SECRET, or COINBASE_KEY_FILE (a CDP key file, chmod 600)",
            ),
        ]
    results.append(PreflightResult("credentials", True, f"key {config.credentials.describe()['api_key']}"))
    broker = container.coinbase_broker
    try:
        results.append(_clock(broker))
        results.append(_permissions(broker))
        results += _products(container, broker)
    except AuthenticationError as exc:
        results.append(
            PreflightResult("authentication", False, str(exc), "check the key name and secret; regenerate the key")
        )
        return results
    except BrokerError as exc:
        url = config.coinbase.sandbox_url or "api.coinbase.com"
        results.append(PreflightResult("connectivity", False, f"{url}: {exc}", "check the network and the URL"))
    return results


def _intx(config: BotConfig) -> list[PreflightResult]:
    perpetuals = [s for s in config.symbols if is_perpetual_id(s)]
    if not perpetuals:
        return []
    moved = moved_perpetuals(config, today())
    if moved is not None:
        return [PreflightResult("INTX order entry", False, moved.detail, moved.fix)]
    names = ", ".join(perpetuals)
    if config.coinbase.sandbox_url is not None:
        detail = f"{names} through the sandbox at {config.coinbase.sandbox_url}, not Coinbase"
    else:
        detail = f"{names} on Advanced Trade until {config.coinbase.intx_cutover} (coinbase.intx_cutover)"
    return [PreflightResult("INTX order entry", True, detail)]


def _clock(broker: CoinbaseBroker) -> PreflightResult:
    sent = time.time()
    server = broker.server_time()
    received = time.time()
    local = datetime.fromtimestamp((sent + received) / 2, UTC)
    skew = abs(server - local)
    detail = f"reachable in {(received - sent) * 1000:.0f} ms, clock skew {skew.total_seconds():.2f} s"
    return PreflightResult(
        "connectivity and clock", skew <= MAX_SKEW, detail, "synchronise the system clock (timedatectl set-ntp true)"
    )


def _permissions(broker: CoinbaseBroker) -> PreflightResult:
    allowed = broker.key_permissions()
    missing = [name for name, ok in (("view", allowed.can_view), ("trade", allowed.can_trade)) if not ok]
    detail = "view and trade" if not missing else f"the key lacks {' and '.join(missing)}"
    return PreflightResult(
        "key permissions", not missing, detail, "create a CDP key with the View and Trade permissions"
    )


def _products(container: ApplicationContainer, broker: CoinbaseBroker) -> list[PreflightResult]:
    config = container.config
    limits = TradeLimits.from_config(config)
    results = []
    balances = {b.currency: b.total for b in broker.balances()}
    prices = {}
    stale = []
    for pid in config.symbols:
        try:
            product = broker.product(pid)
            quote = broker.quote(pid)
        except BrokerError as exc:
            results.append(PreflightResult(f"product {pid}", False, str(exc), "remove it from the profile's symbols"))
            continue
        prices[pid] = quote.mid
        age = (datetime.now(UTC) - quote.time).total_seconds()
        if limits.max_mark_age_seconds is not None and age > limits.max_mark_age_seconds:
            stale.append(f"{pid} {age:.0f} s old")
        results.append(
            PreflightResult(
                f"product {pid}",
                product.tradable,
                "tradable" if product.tradable else "trading is disabled on the exchange",
                "wait for the market to reopen, or remove it from the profile's symbols",
            )
        )
        smallest = product.base_min_size * quote.mid * product.multiplier
        cap = limits.max_notional.get(pid)
        if cap is not None and cap < smallest:
            results.append(
                PreflightResult(
                    f"limits {pid}",
                    False,
                    f"the notional cap {cap} is below the smallest order ({smallest:.2f})",
                    "raise risk.max_notional_per_position or the limits file's cap",
                )
            )
    equity = balances.get("USD", Decimal(0)) + sum(
        (balances.get(pid.split("-")[0], Decimal(0)) * price for pid, price in prices.items()), Decimal(0)
    )
    daily = config.guards.daily_loss
    in_usd = daily.unit == "usd"  # a share of equity fits any funded account; dollars must be below it
    results.append(
        PreflightResult(
            "account size",
            equity > 0 and (not in_usd or daily.limit < equity),
            f"equity {equity:.2f} USD, daily loss limit {daily.limit}{' USD' if in_usd else ' of equity'}",
            "fund the account, or lower guards.daily_loss.limit below the account's equity",
        )
    )
    results.append(
        PreflightResult(
            "market data",
            not stale,
            "fresh" if not stale else "stale: " + ", ".join(stale),
            "check the exchange status page; the bot will not open positions on stale marks",
        )
    )
    return results
