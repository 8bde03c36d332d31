"""The canary's order-rate limits in a backtest, on the simulated clock (issue 14): a strategy that buys
after every 15-second bar gets its second order within 30 s of the last refused (`min_interval`), the third
within a minute refused (`rate_per_minute`), and no more than 20 in the hour (`rate_per_hour`); the refusals
are in the result's risk events with their reason codes, and the brackets attached to the entries (exits,
which never pass the risk manager) do not count."""

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd

from gpttrader.backtest import BacktestResult, run_backtest
from gpttrader.brokers.simulated import FeeSchedule, FillModel
from gpttrader.config import load_config
from gpttrader.config.guards import Guards
from gpttrader.domain import OrderType, Side
from gpttrader.domain.client_ids import ClientIds
from gpttrader.domain.events import EventType
from gpttrader.risk import LiveRiskManager, MemoryJournal
from gpttrader.strategy import Bar, OrderIntent

START = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # inside the canary's 14:00-15:00 window
STEP = timedelta(seconds=15)
FEES = FillModel(fees=FeeSchedule(maker=Decimal("0.001"), taker=Decimal("0.002")))


@dataclass(frozen=True)
class EveryBar:
    """Buys after every bar (the canary's 0.1% of equity), with a bracket far from the price (it never fires)."""

    name: str = "every_bar"
    warmup: int = 1

    def new_state(self) -> None:
        return None

    def on_bar(self, bar: Bar, state: None) -> tuple[OrderIntent, ...]:
        return (OrderIntent(bar.product_id, Side.BUY, OrderType.MARKET, 1.0, take_profit=1_000.0, stop_loss=1.0),)


def candles(count: int) -> pd.DataFrame:
    times = pd.date_range(START, periods=count, freq=STEP)
    rows: dict[str, Any] = {"time": times, "open": 100.0, "high": 100.5, "low": 99.5, "close": 100.0}
    frame = pd.DataFrame({**rows, "volume": 1_000_000.0})
    frame.attrs["product_id"] = "BTC-USD"
    return frame


def canary_manager(clean_env: dict[str, str]) -> LiveRiskManager:
    """The canary profile with its order limits as shipped; its guards off and its position caps roomy, so
    that nothing but the order rate refuses an order."""
    config = load_config(
        "canary",
        overrides={
            "guards": {name: {"enabled": False} for name in Guards.model_fields},
            "risk": {
                "limits_file": None,
                "max_position_size": {"BTC-USD": "1000"},
                "max_notional_per_position": 1_000_000,
                "max_exposure_fraction": "1",
                "max_position_fraction": "1",
            },
        },
    )
    assert (config.order_limits.per_minute, config.order_limits.min_interval_seconds) == (2, 30)
    return LiveRiskManager.from_config(config, MemoryJournal())


def verdicts(result: BacktestResult, count: int) -> list[tuple[float, str]]:
    """(seconds after START, 'sent' or the reason code) of each decided order, in time order."""
    rejected = result.risk_frame((EventType.RISK_ORDER_REJECTED,))
    reasons = dict(zip(rejected["client_order_id"], rejected["reason"], strict=True)) if len(rejected) else {}
    sent = {o.client_order_id for o in result.orders}
    seen = []
    for row in range(1, count):  # decided after bar row - 1, sent at bar row's time
        cid = ClientIds("bt").decision("BTC-USD", START + STEP * (row - 1), "every_bar", 0)
        seen.append(((row * STEP).total_seconds(), "sent" if cid in sent else reasons.get(cid, "missing")))
    return seen


def test_the_canary_refuses_the_third_order_in_a_minute_and_one_within_30_s(clean_env: dict[str, str]) -> None:
    bars = 12
    result = run_backtest(EveryBar(), candles(bars), risk=canary_manager(clean_env), fill_model=FEES)
    # Today every order is sent: order_limits is read by no code.
    assert verdicts(result, bars) == [
        (15, "sent"),
        (30, "min_interval"),  # 15 s after the last, the second in its minute
        (45, "sent"),  # 30 s after it: far enough
        (60, "rate_per_minute"),  # the third in the minute 0-60 s (and 15 s after the last)
        (75, "rate_per_minute"),  # 30 s after the last, but the third in the minute 15-75 s
        (90, "sent"),  # the minute 30-90 s holds one sent order (a refused one never went out)
        (105, "rate_per_minute"),
        (120, "sent"),
        (135, "rate_per_minute"),
        (150, "rate_per_minute"),
        (165, "sent"),
    ]
    rejected = result.risk_frame((EventType.RISK_ORDER_REJECTED,))
    assert set(rejected["check"]) == {"order_rate", "order_interval"}
    first = rejected[rejected["reason"] == "rate_per_minute"].iloc[0]
    assert first["time"] == START + timedelta(seconds=60)  # on the simulated clock
    assert "2 orders sent in the last minute (limit 2 per minute" in first["message"]
    assert result.risk_counters["risk.checks.order_rate.rejections"] == 5
    assert result.risk_counters["risk.checks.order_interval.rejections"] == 1
    # Each entry filled and got its bracket (but the last, filled on the last bar), which no limit held
    # back and which took no entry's place.
    exits = [o for o in result.orders if o.order_type is OrderType.BRACKET]
    assert len(exits) == len(result.orders) - 5 == 4


def test_no_more_than_twenty_orders_in_the_hour(clean_env: dict[str, str]) -> None:
    bars = 240  # the canary's whole window
    result = run_backtest(EveryBar(), candles(bars), risk=canary_manager(clean_env), fill_model=FEES)
    entries = [o for o in result.orders if o.order_type is OrderType.MARKET]
    assert len(entries) == 20
    reasons = set(result.risk_frame((EventType.RISK_ORDER_REJECTED,))["reason"])
    assert reasons == {"min_interval", "rate_per_minute", "rate_per_hour"}
    decided = [ClientIds("bt").bar_time(o.client_order_id, "BTC-USD") for o in entries]
    times = sorted(at + STEP for at in decided if at is not None)  # sent when the bar after it opened
    assert len(times) == len(entries)
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= timedelta(seconds=30)
    assert all(times[i + 2] - times[i] > timedelta(minutes=1) for i in range(len(times) - 2))
