from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from gpttrader.backtest import run_backtest
from gpttrader.marketdata import load_candles
from gpttrader.reports import downsample, equity_figure, monthly_returns_figure, price_figure, write_html
from gpttrader.reports.figures import MAX_TRADES
from gpttrader.strategy import MovingAverageCross

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def candles() -> pd.DataFrame:
    return load_candles(
        "SOL-USD", start=datetime(2025, 1, 1, tzinfo=UTC), end=datetime(2025, 1, 15, tzinfo=UTC), data_dir=ROOT / "data"
    )


def test_downsampling_keeps_the_range_and_bounds_the_points(candles: pd.DataFrame) -> None:
    shown = downsample(candles, max_points=500)
    assert len(shown) <= 500 < len(candles)
    assert shown["high"].max() == candles["high"].max()
    assert shown["low"].min() == candles["low"].min()
    assert shown["open"].iloc[0] == candles["open"].iloc[0]
    assert downsample(candles.iloc[:100]) is not None


def test_figures_and_standalone_html(candles: pd.DataFrame, tmp_path: Path) -> None:
    result = run_backtest(MovingAverageCross(20, 60), candles, product_id="SOL-USD")
    price = price_figure(candles, result, "SOL-USD")
    assert len(price.data[0].x) <= 3000
    marked = sum(len(trace.x) for trace in price.data if trace.name in ("buy", "sell"))
    assert marked <= 2 * MAX_TRADES < len(result.fills)  # hundreds of fills: markers thinned
    assert len(equity_figure(result).data) == 2
    assert monthly_returns_figure(result).data[0].z.shape == (1, 1)  # two weeks of January: one month
    path = write_html(result, {"SOL-USD": candles}, tmp_path / "r" / "report.html", title="SOL <test>")
    page = path.read_text()
    # header, metrics, price and equity (one product), rolling, drawdowns, annual, monthly, trade PnL, exposure
    assert page.count('class="plotly-graph-div"') == 9
    assert '<script src="https://cdn.plot.ly' not in page  # plotly.js is embedded: the report opens offline
    assert len(page) > 3_000_000
    assert "SOL &lt;test&gt;" in page
