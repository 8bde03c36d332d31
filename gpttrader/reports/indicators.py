"""What a strategy may show on its price chart. Optional: a strategy that has an `indicators(candles)`
method returning named series on the price's scale (moving averages, channels, bands), one value per row of
`candles` (NaN while warming up), has them drawn over the candles; any other strategy draws none. The series
should be the ones the strategy decides from, so that the chart shows why it traded."""

from typing import Protocol, runtime_checkable

import pandas as pd


@runtime_checkable
class ShowsIndicators(Protocol):
    def indicators(self, candles: pd.DataFrame) -> dict[str, pd.Series]: ...


def strategy_indicators(strategy: object, candles: pd.DataFrame) -> dict[str, pd.Series]:
    """The strategy's indicators on `candles`, or none when it does not show any."""
    if not isinstance(strategy, ShowsIndicators):
        return {}
    shown = strategy.indicators(candles)
    for name, series in shown.items():
        if len(series) != len(candles):
            raise ValueError(f"indicator {name!r} has {len(series)} values for {len(candles)} candles")
    return shown
