"""The simulated fill model, rule by rule, on hand-built bars."""

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from gpttrader.brokers.simulated import FeeSchedule, FillModel
from gpttrader.domain import Candle, DomainError, Liquidity, OrderRequest, OrderType, Product, Side, TimeInForce
from gpttrader.domain.funding import funding_payment

T = datetime(2026, 1, 1, tzinfo=UTC)


def bar(o: str, h: str, low: str, c: str, v: str = "10") -> Candle:
    return Candle("BTC-USD", T, D(o), D(h), D(low), D(c), D(v))


def order(
    kind: OrderType, side: Side = Side.BUY, size: str = "1", limit: str | None = None, stop: str | None = None
) -> OrderRequest:
    return OrderRequest(
        "c",
        "BTC-USD",
        side,
        kind,
        D(size),
        limit_price=None if limit is None else D(limit),
        stop_price=None if stop is None else D(stop),
        time_in_force=TimeInForce.IOC if kind is OrderType.MARKET else None,
    )


def test_market_fills_at_the_open_as_taker_with_fee(btc: Product) -> None:
    model = FillModel(fees=FeeSchedule(maker=D("0.004"), taker=D("0.006")))
    execution = model.fill(order(OrderType.MARKET), bar("100", "110", "90", "105"), btc).execution
    assert execution is not None
    assert (execution.price, execution.size, execution.liquidity) == (D("100"), D("1"), Liquidity.TAKER)
    assert execution.fee == D("0.600")
    at_close = FillModel(market_price="close").fill(order(OrderType.MARKET), bar("100", "110", "90", "105"), btc)
    assert at_close.execution is not None
    assert at_close.execution.price == D("105")


def test_slippage_moves_against_the_order_onto_the_tick(btc: Product) -> None:
    model = FillModel(slippage_bps=D("7"))
    buy = model.fill(order(OrderType.MARKET), bar("100.00", "101", "99", "100"), btc).execution
    sell = model.fill(order(OrderType.MARKET, Side.SELL), bar("100.00", "101", "99", "100"), btc).execution
    assert buy is not None
    assert sell is not None
    assert buy.price == D("100.07")  # 100.07 exactly
    assert sell.price == D("99.93")
    odd = model.fill(order(OrderType.MARKET), bar("123.45", "124", "123", "123.5"), btc).execution
    assert odd is not None
    assert odd.price == D("123.54")  # 123.536... rounded up for a buy


def test_limit_orders(btc: Product) -> None:
    model = FillModel()
    buy = order(OrderType.LIMIT, limit="95")
    assert model.fill(buy, bar("100", "101", "96", "99"), btc).execution is None
    rested = model.fill(buy, bar("100", "101", "94", "99"), btc, resting=True).execution
    assert rested is not None
    assert (rested.price, rested.liquidity) == (D("95"), Liquidity.MAKER)
    gapped = model.fill(buy, bar("90", "92", "88", "91"), btc, resting=True).execution
    assert gapped is not None
    assert (gapped.price, gapped.liquidity) == (D("95"), Liquidity.MAKER)  # our bid was traded through
    marketable = model.fill(buy, bar("90", "92", "88", "91"), btc).execution
    assert marketable is not None
    assert (marketable.price, marketable.liquidity) == (D("90"), Liquidity.TAKER)
    sell = order(OrderType.LIMIT, Side.SELL, limit="105")
    filled = model.fill(sell, bar("100", "106", "99", "104"), btc, resting=True).execution
    assert filled is not None
    assert filled.price == D("105")


def test_stop_limit_triggers_then_takes_within_its_limit(btc: Product) -> None:
    model = FillModel()
    stop_buy = order(OrderType.STOP_LIMIT, limit="106", stop="105")
    assert model.fill(stop_buy, bar("100", "104", "99", "103"), btc).triggered is False
    touched = model.fill(stop_buy, bar("100", "107", "99", "103"), btc)
    assert touched.triggered
    assert touched.execution is not None
    assert touched.execution.price == D("105")
    gapped_past_limit = model.fill(stop_buy, bar("108", "110", "107", "109"), btc)
    assert gapped_past_limit.triggered
    assert gapped_past_limit.execution is None  # 108 is above its 106 limit: it rests as a limit
    later = model.fill(stop_buy, bar("107", "108", "105.5", "106"), btc, triggered=True).execution
    assert later is not None
    assert (later.price, later.liquidity) == (D("106"), Liquidity.MAKER)
    stop_sell = order(OrderType.STOP_LIMIT, Side.SELL, limit="93", stop="95")
    gap_down = model.fill(stop_sell, bar("94", "96", "92", "93"), btc)
    assert gap_down.execution is not None
    assert gap_down.execution.price == D("94")


def test_bracket_legs(btc: Product) -> None:
    model = FillModel(slippage_bps=D("10"))
    exit_long = order(OrderType.BRACKET, Side.SELL, limit="110", stop="95")
    take = model.fill(exit_long, bar("100", "111", "99", "109"), btc)
    assert take.execution is not None
    assert (take.execution.price, take.execution.liquidity, take.triggered) == (D("110"), Liquidity.MAKER, False)
    stopped = model.fill(exit_long, bar("100", "101", "94", "96"), btc)
    assert stopped.execution is not None
    assert (stopped.execution.price, stopped.execution.liquidity) == (D("94.90"), Liquidity.TAKER)
    both = model.fill(exit_long, bar("100", "112", "90", "100"), btc)
    assert both.triggered, "a bar reaching both legs is read as stopped"
    assert both.execution is not None
    assert both.execution.price < D("95")
    assert model.fill(exit_long, bar("100", "105", "97", "101"), btc).execution is None


def test_partial_fills_are_capped_by_volume(btc: Product) -> None:
    model = FillModel(max_volume_share=D("0.1"))
    first = model.fill(order(OrderType.MARKET, size="5"), bar("100", "101", "99", "100", v="20"), btc).execution
    assert first is not None
    assert first.size == D("2.0")
    rest = model.fill(
        order(OrderType.MARKET, size="5"), bar("100", "101", "99", "100", v="20"), btc, remaining=D("3")
    ).execution
    assert rest is not None
    assert rest.size == D("2.0")
    assert model.fill(order(OrderType.MARKET), bar("100", "101", "99", "100", v="0"), btc).execution is None


def test_futures_fees_use_the_contract_size(btc_future: Product) -> None:
    execution = (
        FillModel()
        .fill(
            OrderRequest("f", btc_future.product_id, Side.BUY, OrderType.MARKET, D("3")),
            Candle(btc_future.product_id, T, D("95000"), D("95100"), D("94900"), D("95050"), D("100")),
            btc_future,
        )
        .execution
    )
    assert execution is not None
    assert execution.fee == D("95000") * 3 * D("0.01") * D("0.006")


def test_funding_and_bad_settings() -> None:
    assert funding_payment(D("2"), D("100"), D("1"), D("0.0001")) == D("0.0200")
    assert funding_payment(D("-2"), D("100"), D("1"), D("0.0001")) == D("-0.0200")
    with pytest.raises(DomainError, match="slippage_bps must be >= 0"):
        FillModel(slippage_bps=D("-1"))
    with pytest.raises(ValueError, match="max_volume_share must be at most 1"):
        FillModel(max_volume_share=D("1.5"))
    with pytest.raises(ValueError, match="market_price must be open or close"):
        FillModel(market_price="vwap")  # type: ignore[arg-type]
