"""Position sizing, with the worked example from the risk issue checked by hand."""

from decimal import Decimal as D

import pytest

from gpttrader.config import load_config
from gpttrader.domain import Product
from gpttrader.risk import (
    FixedFractionSizer,
    FixedNotionalSizer,
    KellySizer,
    LiveRiskManager,
    MarketRegime,
    MemoryJournal,
    PositionSizeRequest,
    SizingGuardrails,
)


def request(**changes: object) -> PositionSizeRequest:
    fields: dict[str, object] = {
        "symbol": "BTC-USD",
        "current_price": D(50_000),
        "portfolio_value": D(10_000),
        "strategy_name": "ma_cross",
        "win_rate": D("0.55"),
        "avg_win": D("0.02"),
        "avg_loss": D("0.01"),
        "confidence": D("0.8"),
        "market_regime": MarketRegime.BULL_VOLATILE,
    }
    fields.update(changes)
    return PositionSizeRequest(**fields)  # type: ignore[arg-type]


def test_the_worked_example(clean_env: dict[str, str], btc: Product) -> None:
    """Win rate 55%, wins twice the size of losses: Kelly f* = 0.55 - 0.45 / 2 = 0.325, capped at 0.25
    (the prod profile's fractional-Kelly cap), x 0.8 confidence = 0.20, x 0.75 for a volatile bull market =
    0.15 of $10,000 = $1,500 = 0.03 BTC at $50,000: under the 18% position cap and BTC's $10,000 limit."""
    risk = LiveRiskManager.from_config(load_config("prod"), MemoryJournal())
    answer = risk.calculate_position_size(request())
    assert answer.kelly_fraction == D("0.325")
    assert answer.fraction == D("0.15")
    assert answer.notional == D(1500)
    assert answer.size == D("0.03")
    assert answer.reasons == ("kelly_cap", "confidence", "regime_bull_volatile")
    [event] = risk.journal.events  # type: ignore[attr-defined]
    assert event.type == "risk.sizing_cut"
    assert event.payload["reasons"] == ["kelly_cap", "confidence", "regime_bull_volatile"]


def test_guardrails_cut_to_the_position_fraction_then_the_symbol_cap(clean_env: dict[str, str], btc: Product) -> None:
    risk = LiveRiskManager.from_config(load_config("prod"), MemoryJournal())
    sure = request(confidence=D(1), market_regime=MarketRegime.BULL_QUIET)
    assert risk.calculate_position_size(sure).fraction == D("0.18")  # 0.25 cut to risk.max_position_fraction
    rich = risk.calculate_position_size(request(confidence=D(1), market_regime=None, portfolio_value=D(1_000_000)))
    assert (rich.notional, rich.size) == (D(10_000), D("0.2"))  # spot_top10: BTC-USD at most $10,000
    assert rich.reasons == ("kelly_cap", "max_fraction", "max_notional")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"win_rate": D("0.3"), "avg_win": D("0.01")}, "negative_edge"),  # 0.3 - 0.7 / 1 < 0
        ({"win_rate": D("0.5"), "avg_win": D("0.01")}, "negative_edge"),  # exactly no edge
        ({"win_rate": None}, "no_edge_estimate"),
        ({"avg_loss": D(0)}, "no_edge_estimate"),
    ],
)
def test_no_edge_sizes_zero(changes: dict[str, object], reason: str, btc: Product) -> None:
    answer = KellySizer().calculate_position_size(request(product=btc, **changes))
    assert (answer.size, answer.notional, answer.fraction) == (0, 0, 0)
    assert reason in answer.reasons


def test_under_the_minimum_fraction_or_the_product_minimum_is_zero(btc: Product) -> None:
    small = SizingGuardrails(min_fraction=D("0.25"))
    assert (
        KellySizer(guardrails=small).calculate_position_size(request(product=btc)).reasons[-1] == "below_min_fraction"
    )
    tiny = FixedFractionSizer(D("0.0001"))
    answer = tiny.calculate_position_size(
        request(portfolio_value=D(1000), confidence=D(1), market_regime=None, product=btc)
    )
    assert answer.size == 0  # $0.10 is 0.000002 BTC, under the 0.00001 minimum
    assert answer.reasons == ("below_min_size",)


def test_the_size_cap_of_the_profile(clean_env: dict[str, str], btc: Product) -> None:
    risk = LiveRiskManager.from_config(load_config("dev"), MemoryJournal())
    answer = risk.calculate_position_size(request(portfolio_value=D(100_000), confidence=D(1), market_regime=None))
    assert answer.size == D("0.001")  # dev: risk.max_position_size BTC-USD 0.001
    assert "max_size" in answer.reasons


def test_fixed_fraction_and_fixed_notional_share_the_interface(btc: Product) -> None:
    rails = SizingGuardrails()
    flat = request(confidence=D(1), market_regime=None)
    assert FixedFractionSizer(D("0.1"), rails).calculate_position_size(flat).size == D("0.02")
    assert FixedFractionSizer(D("0.1"), rails).calculate_position_size(request(market_regime=None)).size == D("0.016")
    fixed = FixedNotionalSizer(D(2500), rails).calculate_position_size(flat)
    assert (fixed.size, fixed.notional, fixed.method) == (D("0.05"), D(2500), "fixed_notional")
    capped = FixedNotionalSizer(D(50_000), rails).calculate_position_size(flat)
    assert (capped.notional, capped.reasons) == (D(10_000), ("equity",))


def test_bad_requests_name_the_field() -> None:
    with pytest.raises(ValueError, match="confidence must be within"):
        request(confidence=D("1.5"))
    with pytest.raises(ValueError, match="current_price must be positive"):
        request(current_price=D(0))
    with pytest.raises(ValueError, match="avg_win is a magnitude"):
        request(avg_win=D("-0.01"))
    assert request(avg_loss=D("-0.01")).avg_loss == D("0.01")  # a loss written negative (issue 14)
    with pytest.raises(ValueError, match="fraction must be in"):
        FixedFractionSizer(D(0))
