"""The edge record Kelly sizing reads: shrunk toward no edge, a floor below a minimum record, the risk
manager filling the engine's requests from it and announcing its changes."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from gpttrader.config import load_config
from gpttrader.domain import Fill, Liquidity, Product, Side
from gpttrader.domain.round_trips import RoundTrips
from gpttrader.risk import EdgeRecord, KellySizer, LiveRiskManager, MarketRegime, MemoryJournal, PositionSizeRequest

AT = datetime(2026, 1, 1, tzinfo=UTC)


def test_no_trip_no_estimate() -> None:
    estimate = EdgeRecord().estimate("ma_cross", "BTC-USD", AT)
    assert (estimate.trades, estimate.win_rate, estimate.avg_win, estimate.avg_loss, estimate.kelly) == (
        0,
        None,
        None,
        None,
        None,
    )


def test_a_few_lucky_trips_are_shrunk_toward_no_edge() -> None:
    """Three wins of 5% in three trips: raw, a win rate of 1 and a Kelly fraction of 1 (all in). With a
    prior of ten imaginary trips (five won, five lost, each of the record's own 5%): p = 8 / 13, wins and
    losses both 5%, Kelly = 8/13 - 5/13 = 3/13."""
    record = EdgeRecord(prior_trades=10)
    for _ in range(3):
        estimate = record.record("ma_cross", "BTC-USD", D("0.05"), AT)
    assert estimate.trades == 3
    assert estimate.wins == 3
    assert estimate.win_rate == D(8) / D(13)
    assert estimate.avg_win == D("0.05")
    assert estimate.avg_loss == D("0.05")
    assert estimate.kelly == D(3) / D(13)


def test_a_long_record_is_hardly_changed_by_the_prior() -> None:
    """600 wins of 2% and 400 losses of 1%: raw Kelly 0.6 - 0.4 / 2 = 0.4; shrunk within 0.01 of it."""
    record = EdgeRecord(prior_trades=10)
    for _ in range(600):
        record.record("s", "BTC-USD", D("0.02"), AT)
    for _ in range(400):
        record.record("s", "BTC-USD", D("-0.01"), AT)
    estimate = record.estimate("s", "BTC-USD", AT)
    assert estimate.trades == 1000
    assert estimate.kelly is not None
    assert abs(estimate.kelly - D("0.4")) < D("0.01")
    assert estimate.avg_loss is not None
    assert estimate.avg_loss > 0


def test_no_prior_gives_the_raw_estimate() -> None:
    record = EdgeRecord(prior_trades=0)
    for fraction in ("0.04", "-0.02", "0.02", "-0.01"):
        record.record("s", "ETH-USD", D(fraction), AT)
    estimate = record.estimate("s", "ETH-USD", AT)
    assert (estimate.win_rate, estimate.avg_win, estimate.avg_loss) == (D("0.5"), D("0.03"), D("0.015"))


def test_a_trip_closed_in_several_fills_is_measured_against_its_peak_notional() -> None:
    """Bought 1 at 100 (cost 100), sold in two fills: the trip's PnL of 10 is 10% of what was at stake,
    not 10 over the last fill's half."""
    product = Product("BTC-USD", "BTC", "USD", D("0.01"), D("0.01"), D("0.01"), D(1000), D(1))
    trips = RoundTrips()

    def fill(side: Side, size: str, price: int) -> D | None:
        done = Fill("t", "c", "BTC-USD", side, D(price), D(size), D(0), Liquidity.TAKER, AT)
        trip = trips.apply(done, product.multiplier)
        return None if trip is None else trip.fraction

    assert fill(Side.BUY, "1", 100) is None
    assert fill(Side.SELL, "0.5", 110) is None
    assert fill(Side.SELL, "0.5", 110) == D("0.1")
    # a flip: the rest (a short of 0.3 at 100, a cost of 30) opens the next trip, measured from there
    assert fill(Side.SELL, "0.3", 100) is None
    assert fill(Side.BUY, "0.3", 110) == D("-0.1")


def test_below_the_minimum_record_kelly_sizes_at_the_floor_and_says_so() -> None:
    sizer = KellySizer(D("0.25"), min_trades=20, floor_fraction=D("0.02"))
    thin = PositionSizeRequest("BTC-USD", 100, 10_000, "s", 0.9, 0.1, 0.01, trade_count=3)
    answer = sizer.calculate_position_size(thin)
    assert (answer.fraction, answer.notional) == (D("0.02"), D(200))
    assert answer.reasons == ("kelly_floor_3_of_20_trades",)
    enough = sizer.calculate_position_size(
        PositionSizeRequest("BTC-USD", 100, 10_000, "s", 0.9, 0.1, 0.01, trade_count=20)
    )
    assert enough.reasons == ("kelly_cap",)
    assert enough.fraction == D("0.25")


def test_the_manager_sizes_the_engines_requests_from_the_record(clean_env: dict[str, str]) -> None:
    """The engine's request names the strategy and the product only (`engine.decisions`): on the prod
    profile it was sized 0 (`no_edge_estimate`) whatever the strategy's record."""
    config = load_config("prod", overrides={"symbols": ["BTC-USD"], "sizing": {"kelly_min_trades": 4}})
    risk = LiveRiskManager.from_config(config, MemoryJournal(), clock=lambda: AT)
    engine_request = PositionSizeRequest("BTC-USD", 50_000, 10_000, "ma_cross")
    first = risk.calculate_position_size(engine_request)
    assert first.fraction == D("0.01")
    assert first.reasons == ("kelly_floor_0_of_4_trades",)
    risk.announce_edges(AT)
    for fraction in ("0.03", "0.03", "-0.01", "0.03"):
        risk.record_trip("ma_cross", "BTC-USD", D(fraction), AT)
    risk.set_regime("BTC-USD", MarketRegime.BULL_VOLATILE, AT)
    answer = risk.calculate_position_size(engine_request)
    estimate = risk.edge.estimate("ma_cross", "BTC-USD", AT)
    assert estimate.kelly is not None
    assert answer.kelly_fraction == estimate.kelly > 0
    assert answer.size > 0
    assert "regime_bull_volatile" in answer.reasons
    events = [e for e in risk.journal.events if e.type == "risk.edge_estimate"]  # type: ignore[attr-defined]
    assert [e.payload["trades"] for e in events] == [1, 2, 3, 4]
    assert events[-1].payload["win_rate"] == str(round(estimate.win_rate or 0, 8))
    [regime] = [e for e in risk.journal.events if e.type == "risk.regime"]  # type: ignore[attr-defined]
    assert regime.payload == {"product_id": "BTC-USD", "regime": "bull_volatile", "previous": None}


def test_trips_booked_before_the_announcement_are_announced_once(clean_env: dict[str, str]) -> None:
    """A start books the bot's past fills again: one event per estimate then, not one per old trip."""
    risk = LiveRiskManager.from_config(load_config("prod", overrides={"symbols": ["BTC-USD"]}), MemoryJournal())
    for fraction in ("0.01", "-0.02", "0.03"):
        risk.record_trip("ma_cross", "BTC-USD", D(fraction), AT)
    risk.announce_edges(AT, source="seed")
    events = [e for e in risk.journal.events if e.type == "risk.edge_estimate"]  # type: ignore[attr-defined]
    assert len(events) == 1
    assert events[0].payload["trades"] == 3
    assert events[0].payload["source"] == "seed"


def test_only_the_windows_trips_count_so_a_stopped_strategy_comes_back_at_the_floor() -> None:
    """Twenty losing trips stop Kelly (a non-positive edge sizes 0, and no new trip can change that); thirty
    days on, they have aged out of the window: the record is below its minimum again and the floor trades."""
    record = EdgeRecord(prior_trades=10, window=timedelta(days=30))
    for day in range(20):
        record.record("s", "BTC-USD", D("-0.01"), AT + timedelta(hours=day))
    stopped = record.estimate("s", "BTC-USD", AT + timedelta(days=1))
    assert stopped.trades == 20
    assert stopped.kelly is not None
    assert stopped.kelly <= 0
    later = record.estimate("s", "BTC-USD", AT + timedelta(days=31))
    assert later.trades == 0
    sizer = KellySizer(D("0.25"), min_trades=20, floor_fraction=D("0.01"))
    request = PositionSizeRequest("BTC-USD", 100, 10_000, "s", trade_count=later.trades)
    assert sizer.calculate_position_size(request).fraction == D("0.01")
