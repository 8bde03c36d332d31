"""Backtest throughput on the reference case: MovingAverageCross(10, 30), all-in, next-open fills, 0.6% fee,
over 100k, 500k and 1M one-minute bars of seeded synthetic data. Prints bars per second and peak RSS.
Target: at least 1,000,000 bars/s at 1M bars with peak RSS under 500 MB."""

import resource
import time
from datetime import UTC, datetime
from decimal import Decimal

from gpttrader.backtest import run_backtest
from gpttrader.brokers.simulated import FeeSchedule, FillModel
from gpttrader.marketdata import SyntheticSpec, synthetic_candles
from gpttrader.strategy import MovingAverageCross


def main() -> None:
    strategy = MovingAverageCross(10, 30)
    # At 0.6% a side, one-minute crossings spend the capital within a few thousand trades, after which no
    # order clears the minimum; the fee-free run keeps trading to the end and shows the per-trade cost.
    for label, fee in (("reference, 0.6% fee", Decimal("0.006")), ("no fee (trades to the end)", Decimal(0))):
        model = FillModel(fees=FeeSchedule(maker=fee, taker=fee))
        print(label)
        for bars in (100_000, 500_000, 1_000_000):
            candles = synthetic_candles(SyntheticSpec("BTC-USD", 95_000.0), datetime(2024, 1, 1, tzinfo=UTC), bars, 42)
            start = time.perf_counter()
            result = run_backtest(strategy, candles, fill_model=model, initial_cash=Decimal(1_000_000))
            elapsed = time.perf_counter() - start
            print(
                f"  {bars:>9,} bars: {elapsed:6.2f} s, {bars / elapsed:>12,.0f} bars/s, {len(result.fills):,} fills, "
                f"final equity {result.final_equity:,.0f}"
            )
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
