"""The candle cache is kept per venue: Coinbase's candles, a sandbox's and the dev market's never stand in
for one another, and research, the backtest and a bot's start name the same venue for the same market."""

from pathlib import Path

import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.app.commands.backtest import known_products
from gpttrader.config import load_config
from gpttrader.domain import Granularity
from gpttrader.marketdata import CandleCache, CandleFileError, load_candles
from gpttrader.marketdata.cache import market_venue, venue
from tests.unit.marketdata.test_frames_cache_load import minutes

SANDBOX = {"COINBASE_SANDBOX_URL": "https://127.0.0.1:8443"}


@pytest.mark.parametrize(
    ("profile", "env", "bot", "market"),
    [
        ("dev", {}, "dev", "coinbase"),  # the dev bot's seeded paths; its research fetches Coinbase's candles
        ("paper", {}, "coinbase", "coinbase"),  # paper on Coinbase's public data: Coinbase's own candles
        ("paper", SANDBOX, "sandbox", "sandbox"),
        ("dev", SANDBOX, "dev", "sandbox"),
    ],
)
def test_the_venue_is_whose_candles_they_are(
    profile: str, env: dict[str, str], bot: str, market: str, clean_env: dict[str, str], tmp_path: Path
) -> None:
    config = load_config(profile, overrides={"data_dir": tmp_path}, env={**clean_env, **env})
    assert (venue(config), market_venue(config)) == (bot, market)
    assert ApplicationContainer(config).candle_cache.root == tmp_path / "cache" / "candles" / bot


def test_research_and_the_backtest_read_one_venues_cache_only(tmp_path: Path) -> None:
    CandleCache.of(tmp_path, "sandbox").write("BTC-USD", Granularity.ONE_MINUTE, minutes([11.0, 12.0, 13.0]))
    CandleCache(tmp_path / "cache" / "candles").write("ETH-USD", Granularity.ONE_MINUTE, minutes([14.0, 15.0]))

    assert load_candles("BTC-USD", source="cache", data_dir=tmp_path, venue="sandbox")["close"].tolist() == [11, 12, 13]
    with pytest.raises(CandleFileError, match="no cached ONE_MINUTE candles for BTC-USD at .*/coinbase/BTC-USD/"):
        load_candles("BTC-USD", source="cache", data_dir=tmp_path)  # Coinbase's, by default
    # The layout without a venue is not read: its candles are downloaded again
    with pytest.raises(CandleFileError, match="no cached ONE_MINUTE candles for ETH-USD"):
        load_candles("ETH-USD", source="cache", data_dir=tmp_path)
    assert known_products("cache", CandleCache.of(tmp_path, "sandbox")) == (["BTC-USD"], "the candle cache")
    assert known_products("cache", CandleCache.of(tmp_path, "coinbase")) == ([], "the candle cache")
