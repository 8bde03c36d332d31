"""A strategy Kelly stopped comes back: a non-positive edge sizes its entries 0, which makes no new round
trip that could change the estimate, so only the record's window (`sizing.kelly_window_days`) lets it
recover: once its trips age out, it is below `kelly_min_trades` again and trades at the floor. Found by a
red-team pass: `rsi` on the sample year with `--risk prod` was sized 0 from April to December."""

from datetime import timedelta
from decimal import Decimal

from gpttrader.backtest import run_backtest
from gpttrader.brokers.simulated import FeeSchedule, FillModel
from gpttrader.config import load_config
from gpttrader.domain.events import EventType
from gpttrader.marketdata import load_candles
from gpttrader.risk import LiveRiskManager, MemoryJournal
from gpttrader.strategy import build_strategy


def test_a_strategy_kelly_stopped_trades_again_at_the_floor_once_its_trips_age_out() -> None:
    prod = load_config(
        "prod",
        overrides={
            "symbols": ["BTC-USD"],
            # a short record and window, so that the sample year shows a stop and a recovery
            "sizing": {"kelly_min_trades": 4, "kelly_window_days": 60},
            "guards": {"consecutive_losses": {"enabled": False}},  # its own stop is not the point here
        },
        env={},
    )
    candles = load_candles("BTC-USD", "ONE_HOUR", source="sample", data_dir=prod.data_dir)
    result = run_backtest(
        build_strategy("rsi", {}),
        {"BTC-USD": candles},
        initial_cash=Decimal(100_000),
        fill_model=FillModel(fees=FeeSchedule(Decimal("0.004"), Decimal("0.006"))),
        risk=LiveRiskManager.from_config(prod, MemoryJournal()),
    )
    cuts = result.risk_frame((EventType.RISK_SIZING_CUT,))
    stopped = cuts[cuts["reasons"].map(lambda r: "negative_edge" in r)]
    assert not stopped.empty, "the sample year should stop the strategy at some point"
    window = timedelta(days=prod.sizing.kelly_window_days)
    after = cuts[cuts["time"] > stopped["time"].iloc[0] + window]
    floor = after[after["reasons"].map(lambda r: any(str(x).startswith("kelly_floor") for x in r))]
    assert not floor.empty, "never sized at the floor again after its losing trips aged out"
    last_trip = max(at for at, _, _ in result.trip_returns)
    assert last_trip > stopped["time"].iloc[0] + window  # and it made round trips again
