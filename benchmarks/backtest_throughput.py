"""Backtest throughput on the reference case: MovingAverageCross(10, 30), all-in, next-open fills, 0.6% fee,
over 100k, 500k and 1M one-minute bars of seeded synthetic data, first without a risk manager, then with
the default guards on (the paper profile's, with the per-symbol caps lifted so that the all-in sizing
stands). Prints bars per second and peak RSS. Target: at least 1,000,000 bars/s at 1M bars, guards on,
with peak RSS under 500 MB."""

import resource
import time
from datetime import UTC, datetime
from decimal import Decimal

from gpttrader.backtest import run_backtest
from gpttrader.brokers.simulated import FeeSchedule, FillModel
from gpttrader.config import load_config
from gpttrader.marketdata import SyntheticSpec, synthetic_candles
from gpttrader.risk import FixedFractionSizer, LiveRiskManager, MemoryJournal
from gpttrader.strategy import MovingAverageCross


def default_guards() -> LiveRiskManager:
    config = load_config(
        "paper",
        overrides={
            "symbols": ["BTC-USD"],
            "risk": {"limits_file": None, "max_position_fraction": 1, "max_exposure_fraction": 1},
        },
        env={},
    )
    return LiveRiskManager.from_config(config, MemoryJournal())


def main() -> None:
    strategy = MovingAverageCross(10, 30)
    model = FillModel(fees=FeeSchedule(maker=Decimal("0.006"), taker=Decimal("0.006")))
    all_in = FixedFractionSizer(Decimal(1))
    for label, risk in (("reference, no risk manager", None), ("reference, default guards on", default_guards())):
        print(label)
        for bars in (100_000, 500_000, 1_000_000):
            candles = synthetic_candles(SyntheticSpec("BTC-USD", 95_000.0), datetime(2024, 1, 1, tzinfo=UTC), bars, 42)
            start = time.perf_counter()
            result = run_backtest(
                strategy, candles, fill_model=model, initial_cash=Decimal(1_000_000), sizer=all_in, risk=risk
            )
            elapsed = time.perf_counter() - start
            guards = result.guard_events()
            trips = 0 if guards.empty else int((guards["type"] == "risk.guard_breached").sum())
            print(
                f"  {bars:>9,} bars: {elapsed:6.2f} s, {bars / elapsed:>12,.0f} bars/s, {len(result.fills):,} fills, "
                f"{len(result.risk_frame(('risk.order_rejected',))):,} rejected, {trips} guard trips, "
                f"final state {result.risk_state}, final equity {result.final_equity:,.0f}"
            )
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
