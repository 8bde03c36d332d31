"""Strategies that place orders: limit and stop-limit entries, expiry, brackets attached on fill (an exit for
each part of an entry as it fills, as live places them), replacement, cancellation, and the risk checks on
both legs, on candles built by hand."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

import pandas as pd
import pytest

from gpttrader.backtest import BacktestResult, run_backtest
from gpttrader.brokers.simulated import FeeSchedule, FillModel
from gpttrader.config import load_config
from gpttrader.config.guards import Guards
from gpttrader.domain import Liquidity, OrderType, Side
from gpttrader.marketdata import load_candles
from gpttrader.risk import LiveRiskManager, MemoryJournal
from gpttrader.strategy import Bar, BreakoutBracket, CancelEntries, Intent, OrderIntent
from tests.unit.products import PERP

ROOT = Path(__file__).resolve().parents[3]
FEES = FillModel(fees=FeeSchedule(maker=Decimal("0.001"), taker=Decimal("0.002")))
CASH = Decimal(10_000)


@dataclass
class _Count:
    bars: int = 0


@dataclass(frozen=True)
class Scripted:
    """Places the orders of `plan` after the bar of that index, nothing otherwise."""

    plan: dict[int, tuple[Intent, ...]] = field(default_factory=dict)
    name: str = "scripted"
    warmup: int = 1

    def new_state(self) -> _Count:
        return _Count()

    def on_bar(self, bar: Bar, state: _Count) -> tuple[Intent, ...]:
        state.bars += 1
        return self.plan.get(state.bars - 1, ())


def candles(rows: list[tuple[float, float, float, float]], volume: float = 1_000.0) -> pd.DataFrame:
    """(open, high, low, close) per one-minute bar."""
    frame = pd.DataFrame(rows, columns=["open", "high", "low", "close"])
    frame.insert(0, "time", pd.date_range(datetime(2025, 5, 1, tzinfo=UTC), periods=len(rows), freq="1min"))
    frame["volume"] = volume
    frame.attrs["product_id"] = "BTC-USD"
    return frame


FLAT = (100.0, 100.5, 99.5, 100.0)


def buy(kind: OrderType = OrderType.LIMIT, **fields: object) -> OrderIntent:
    return OrderIntent("BTC-USD", Side.BUY, kind, **fields)  # type: ignore[arg-type]


def all_in(price: Decimal) -> Decimal:
    return (CASH / (price * Decimal("1.002"))).quantize(Decimal("0.00000001"), ROUND_FLOOR)


def test_a_limit_entry_rests_fills_at_its_limit_and_its_bracket_takes_profit() -> None:
    plan = {1: (buy(limit_price=99.0, take_profit=103.0, stop_loss=97.0, expire_bars=3),)}
    bars = [FLAT, FLAT, (100.0, 100.4, 99.2, 99.5), (99.4, 99.6, 98.9, 99.3), (99.5, 103.5, 99.4, 103.2), FLAT]
    result = run_backtest(Scripted(plan), candles(bars), fill_model=FEES, initial_cash=CASH)
    size = all_in(Decimal(99))
    entry, exit_ = result.fills
    assert (entry.side, entry.price, entry.size, entry.liquidity) == (Side.BUY, Decimal(99), size, Liquidity.MAKER)
    assert entry.time == datetime(2025, 5, 1, 0, 3, tzinfo=UTC)  # the bar whose low reached 99, not the one before
    assert (exit_.side, exit_.price, exit_.size, exit_.liquidity) == (Side.SELL, Decimal(103), size, Liquidity.MAKER)
    assert [o.order_type for o in result.orders] == [OrderType.LIMIT, OrderType.BRACKET]
    fees = (Decimal(99) + Decimal(103)) * size * Decimal("0.001")
    assert result.final_cash == CASH + size * 4 - fees


def test_an_unfilled_limit_expires() -> None:
    plan = {1: (buy(limit_price=90.0, take_profit=95.0, stop_loss=85.0, expire_bars=2),)}
    bars = [FLAT, FLAT, FLAT, FLAT, (95.0, 95.0, 89.0, 90.0), FLAT]  # 90 is reached on the third bar: too late
    result = run_backtest(Scripted(plan), candles(bars), fill_model=FEES, initial_cash=CASH)
    assert len(result.orders) == 1
    assert result.fills == []


def test_a_bar_that_reaches_both_legs_is_read_as_the_stop() -> None:
    plan = {1: (buy(OrderType.MARKET, take_profit=103.0, stop_loss=97.0),)}
    bars = [FLAT, FLAT, (100.0, 100.2, 99.8, 100.0), (100.0, 104.0, 96.0, 100.0), FLAT]
    result = run_backtest(Scripted(plan), candles(bars), fill_model=FEES, initial_cash=CASH)
    entry, exit_ = result.fills
    assert (entry.price, entry.liquidity) == (Decimal(100), Liquidity.TAKER)  # the next bar's open
    assert (exit_.price, exit_.liquidity, exit_.size) == (Decimal(97), Liquidity.TAKER, entry.size)


def test_a_stop_limit_entry_triggers_on_the_range_and_takes_at_the_trigger() -> None:
    plan = {1: (buy(OrderType.STOP_LIMIT, stop_price=101.0, limit_price=101.5, expire_bars=5),)}
    bars = [FLAT, FLAT, FLAT, (100.2, 101.4, 100.1, 101.2), FLAT]
    result = run_backtest(Scripted(plan), candles(bars), fill_model=FEES, initial_cash=CASH)
    [fill] = result.fills
    assert (fill.price, fill.liquidity, fill.time.minute) == (Decimal(101), Liquidity.TAKER, 3)


def test_each_part_of_an_entry_that_fills_gets_its_own_exit() -> None:
    capped = FillModel(fees=FEES.fees, max_volume_share=Decimal("0.5"))
    plan = {0: (buy(OrderType.MARKET, fraction=0.5, take_profit=110.0, stop_loss=90.0),)}
    bars = [FLAT] * 4 + [(100.0, 111.0, 99.0, 110.0)] * 3 + [FLAT]
    # 0.5 x 10,000 / 100 is about 50 units; at most half of a bar's 40 units fill each bar: 20, 20, then 9.99
    result = run_backtest(Scripted(plan), candles(bars, volume=40), fill_model=capped, initial_cash=CASH)
    buys = [f for f in result.fills if f.side is Side.BUY]
    sells = [f for f in result.fills if f.side is Side.SELL]
    assert [f.size for f in buys][:2] == [Decimal(20), Decimal(20)]
    assert sum(f.size for f in sells) == sum(f.size for f in buys)  # the exits covered every part
    assert all(f.price == Decimal(110) for f in sells)
    exits = [o for o in result.orders if o.order_type is OrderType.BRACKET]
    entry = result.orders[0].client_order_id
    assert [(o.client_order_id, o.size) for o in exits] == [
        (f"{entry}-x{n}", f.size) for n, f in enumerate(buys, start=1)
    ]  # named and sized as live's (gpttrader.engine.exits)
    assert all(o.reduce_only for o in exits)


def test_new_intents_replace_working_entries_but_not_exits() -> None:
    plan = {
        1: (buy(OrderType.MARKET, fraction=0.5, take_profit=120.0, stop_loss=80.0),),
        3: (buy(limit_price=95.0, fraction=0.5, expire_bars=10),),
        4: (buy(limit_price=96.0, fraction=0.5, expire_bars=10),),
    }
    bars = [FLAT] * 5 + [(99.0, 99.5, 94.0, 95.0), (95.0, 121.0, 94.0, 120.0), FLAT]
    result = run_backtest(Scripted(plan), candles(bars), fill_model=FEES, initial_cash=CASH)
    sides = [(f.side, f.price) for f in result.fills]
    # the 95 limit was replaced by the 96 one before it could fill; the first entry's bracket stayed working
    assert sides == [(Side.BUY, Decimal(100)), (Side.BUY, Decimal(96)), (Side.SELL, Decimal(120))]


def test_breakout_bracket_on_the_sample_data() -> None:
    frame = load_candles(
        "ETH-USD",
        "FIVE_MINUTE",
        start=datetime(2025, 6, 1, tzinfo=UTC),
        end=datetime(2025, 7, 1, tzinfo=UTC),
        data_dir=ROOT / "data",
    )
    strategy = BreakoutBracket(lookback=24, take_profit=0.01, stop_loss=0.005, expire_bars=2)
    result = run_backtest(strategy, frame, fill_model=FEES, initial_cash=CASH)
    entries = [o for o in result.orders if o.order_type is OrderType.LIMIT]
    exits = {o.client_order_id: o for o in result.orders if o.order_type is OrderType.BRACKET}
    assert len(exits) > 10
    held = Decimal(0)
    for fill in result.fills:
        held += fill.size if fill.side is Side.BUY else -fill.size
        assert held >= 0
        bracket = exits.get(fill.client_order_id)
        if bracket is not None:  # a take-profit at its limit, or a stop at (or past a gap, below) its trigger
            assert bracket.stop_price is not None
            assert fill.price == bracket.limit_price or fill.price <= bracket.stop_price
    assert len(entries) >= len(exits)
    assert {t.exit_time is not None for t in result.trades[:-1]} == {True}
    assert result.metrics["trades"] == pytest.approx(len([t for t in result.trades if t.exit_time]))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"order_type": OrderType.BRACKET}, "not an entry"),
        ({"order_type": OrderType.LIMIT}, "needs limit_price"),
        ({"limit_price": 1.0}, "takes no limit_price"),
        ({"take_profit": 110.0}, "come together"),
        ({"take_profit": 90.0, "stop_loss": 95.0}, "wrong way round"),
        ({"fraction": 1.5}, "fraction must be in"),
        (
            {"order_type": OrderType.LIMIT, "limit_price": 1.0, "expire_bars": 0},
            "expire_bars must be from 1 to 100,000",
        ),
        ({"order_type": OrderType.LIMIT, "limit_price": 1.0, "expire_bars": 10**10}, "expire_bars must be from 1"),
    ],
)
def test_bad_intents_say_what_is_wrong(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OrderIntent("BTC-USD", Side.BUY, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("action", ["reduce_only", "halt"])
def test_in_reduce_only_or_halted_entries_are_refused_and_the_bracket_still_exits(
    clean_env: dict[str, str], action: str
) -> None:
    """A state that refuses new exposure leaves the stop-loss working: cancelling it would make nothing safer
    (engine.order_manager.stopped_by, live's rule too)."""
    config = load_config(
        "paper",
        overrides={
            "symbols": ["BTC-USD"],
            "risk": {"limits_file": None, "max_position_fraction": 1, "max_exposure_fraction": 1},
            "sizing": {"method": "fixed_fraction", "fraction": 1},
            "guards": {
                **{name: {"enabled": False} for name in Guards.model_fields},
                "max_drawdown": {"limit": "0.02", "action": action},
            },
        },
    )
    risk = LiveRiskManager.from_config(config, MemoryJournal())
    plan = {
        1: (buy(OrderType.MARKET, fraction=0.6, take_profit=110.0, stop_loss=95.0),),
        4: (buy(OrderType.MARKET, fraction=0.3),),
    }
    # bar 3 closes at 97: 60% of equity 3% under its entry, the 2% drawdown guard trips; bar 6 reaches the stop
    bars = [FLAT, FLAT, FLAT, (99.0, 99.0, 96.0, 96.0), FLAT, (97.0, 97.0, 97.0, 97.0), (96.0, 96.0, 94.0, 95.0)]
    result = run_backtest(Scripted(plan), candles(bars), fill_model=FEES, initial_cash=CASH, risk=risk)
    [rejected] = result.risk_frame(("risk.order_rejected",)).to_dict("records")
    state = "reduce_only" if action == "reduce_only" else "halted"
    assert (rejected["client_order_id"], rejected["reason"]) == ("bt-BTC-USD-20250501T000400-scripted-0", state)
    assert [(f.side, f.price) for f in result.fills] == [(Side.BUY, Decimal(100)), (Side.SELL, Decimal(95))]


def test_a_strategy_cancels_its_working_entry_and_nothing_of_it_fills() -> None:
    """A resting limit withdrawn by `CancelEntries` stops working from the next bar, as live cancels it; the
    same limit left working fills when the market comes down to it."""
    entry = buy(limit_price=98.0)
    dip = (99.0, 99.2, 97.5, 98.5)
    bars = [FLAT, FLAT, FLAT, FLAT, dip, FLAT]
    kept = run_backtest(Scripted({1: (entry,)}), candles(bars), fill_model=FEES, initial_cash=CASH)
    assert [f.price for f in kept.fills] == [Decimal(98)]
    cancelled = run_backtest(
        Scripted({1: (entry,), 3: (CancelEntries("BTC-USD", "no longer wanted"),)}),
        candles(bars),
        fill_model=FEES,
        initial_cash=CASH,
    )
    assert cancelled.fills == []
    assert [o.order_type for o in cancelled.orders] == [OrderType.LIMIT]  # the cancel places nothing


def test_an_entry_expires_by_time_as_live_expires_it_when_bars_are_missing() -> None:
    """Live cancels an entry once its last bar's close time has passed (engine.order_manager.entry_expiry),
    whether or not the market printed a bar in between: a bar missing from the history (no trades in that
    minute) does not stretch the entry's life by a bar."""
    plan = {1: (buy(limit_price=90.0, expire_bars=2),)}
    frame = candles([FLAT, FLAT, FLAT, (95.0, 95.0, 89.0, 90.0), FLAT])
    frame.loc[2:, "time"] += timedelta(minutes=1)  # the minute after the decision had no trades
    # Decided on 00:01, the entry works through 00:03 (closing at 00:04): 00:02 is missing and 00:04 is too late.
    result = run_backtest(Scripted(plan), frame, fill_model=FEES, initial_cash=CASH)
    assert len(result.orders) == 1
    assert result.fills == []  # today: counted in rows, it works on 00:03 and 00:04 and fills at 90


def drawdown_guarded(product_id: str) -> LiveRiskManager:
    """Reduce-only once equity is 2% off its peak; nothing else in the way (futures allowed)."""
    config = load_config(
        "paper",
        overrides={
            "symbols": [product_id],
            "risk": {
                "limits_file": None,
                "max_position_fraction": 1,
                "max_exposure_fraction": 1,
                "max_position_size": {},
                "max_leverage": 10,
            },
            "sizing": {"method": "fixed_fraction", "fraction": 1},
            "guards": {
                **{name: {"enabled": False} for name in Guards.model_fields},
                "max_drawdown": {"limit": "0.02", "action": "reduce_only"},
            },
        },
        env={"COINBASE_ENABLE_DERIVATIVES": "1"},
    )
    return LiveRiskManager.from_config(config, MemoryJournal())


def sell_at(price: float, fraction: float) -> OrderIntent:
    return OrderIntent(PERP.product_id, Side.SELL, OrderType.LIMIT, fraction, limit_price=price)


def positions(result: BacktestResult) -> list[Decimal]:
    held, after = Decimal(0), []
    for fill in result.fills:
        held += fill.size if fill.side is Side.BUY else -fill.size
        after.append(held)
    return after


DIP = [FLAT, FLAT, FLAT, (99.0, 99.0, 96.0, 96.0), FLAT, (97.0, 97.0, 97.0, 97.0)]  # 2% off the peak at bar 3


@pytest.mark.parametrize(
    "last_bars",
    [
        [(97.0, 101.5, 97.0, 101.0), FLAT],  # both sells reached on one bar
        [(97.0, 101.5, 97.0, 101.0), (101.0, 102.5, 101.0, 102.0), FLAT],  # one bar each
    ],
    ids=["together", "one after the other"],
)
def test_under_reduce_only_sells_that_each_shrink_a_long_never_flip_it_together(
    last_bars: list[tuple[float, float, float, float]],
) -> None:
    """Two resting sells of 0.8 of a long: each alone shrinks it, both would flip it short. Judged together
    when the state moves (and again once one fills), the second stops (engine.order_manager.stopped_by)."""
    plan = {
        1: (OrderIntent(PERP.product_id, Side.BUY, OrderType.MARKET, 1.0),),
        2: (sell_at(101.0, 0.8), sell_at(102.0 if len(last_bars) == 3 else 101.0, 0.8)),
    }
    result = run_backtest(
        Scripted(plan),
        candles([*DIP, *last_bars]),
        product_id=PERP.product_id,
        products={PERP.product_id: PERP},
        fill_model=FEES,
        initial_cash=Decimal(1000),
        risk=drawdown_guarded(PERP.product_id),
    )
    assert result.risk_state == "reduce_only"
    assert min(positions(result)) >= 0  # today: 10 -> 2.17 -> -5.65


def test_under_reduce_only_a_strategy_sell_leaves_the_stop_loss_working_for_what_is_left() -> None:
    """A sell of half the position fills, then the bot turns reduce-only: the bracket's exit shrinks to what
    is left (as live places it again at what is held) and keeps protecting it to its stop."""
    plan = {
        1: (OrderIntent(PERP.product_id, Side.BUY, OrderType.MARKET, 1.0, take_profit=110.0, stop_loss=95.0),),
        2: (sell_at(101.0, 0.5),),
    }
    bars = [FLAT, FLAT, FLAT, (100.0, 101.5, 100.0, 101.0), (99.0, 99.0, 96.0, 96.0), FLAT, (97.0, 97.0, 97.0, 97.0)]
    bars += [(96.0, 96.0, 94.0, 94.5), FLAT]
    result = run_backtest(
        Scripted(plan),
        candles(bars),
        product_id=PERP.product_id,
        products={PERP.product_id: PERP},
        fill_model=FEES,
        initial_cash=Decimal(1000),
        risk=drawdown_guarded(PERP.product_id),
    )
    assert result.risk_state == "reduce_only"
    assert positions(result)[-1] == 0  # today: the exit is cancelled and what is left stays open, unprotected
    assert result.fills[-1].price == Decimal(95)
