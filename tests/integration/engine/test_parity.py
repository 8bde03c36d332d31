"""Research-to-live parity on the fast path: the moving-average cross's vectorized targets in the backtest,
and the same strategy bar by bar in a paper session and a canary session through the Coinbase broker, on
one replayed price path. Their decision streams must be identical; fill prices differ, and the test reports
by how much and why. (The other cases, stepped: test_parity_cases.py.)"""

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gpttrader.backtest import BacktestResult
from gpttrader.strategy import MovingAverageCross
from tests.integration.engine.parity import START, backtest, config_for, history, sandbox_for, session
from tests.integration.sandbox.conftest import SandboxFactory

CYCLES = 55


@pytest.mark.slow
def test_backtest_paper_and_canary_decide_the_same(start_sandbox: SandboxFactory, tmp_path: Path) -> None:
    strategy = MovingAverageCross(3, 8)
    paper_sandbox, canary_sandbox = sandbox_for(start_sandbox), sandbox_for(start_sandbox)
    paper_config = config_for("paper", paper_sandbox, tmp_path / "paper")
    canary_config = config_for("canary", canary_sandbox, tmp_path / "canary")
    paper = session(paper_config, paper_sandbox, strategy, CYCLES)
    canary = session(canary_config, canary_sandbox, strategy, CYCLES)
    assert paper.decisions, "the session should decide something"
    assert paper.first_bar == START - timedelta(minutes=1)
    product, fee, frame = history(
        canary_config, canary_sandbox, START - timedelta(hours=3), canary.last_bar + timedelta(minutes=1)
    )
    tested, result = backtest(canary_config, product, frame, strategy, paper.first_bar, fee, mode="fast")
    assert paper.decisions == canary.decisions == [d for d in tested if d[0] >= paper.first_bar]
    report(paper.fills, canary.fills, result, paper.equity, canary.equity)


def report(
    paper: list[Mapping[str, Any]], canary: list[Mapping[str, Any]], result: BacktestResult, *equities: str
) -> None:
    """Print how far the fills are apart, and hold them to what the venues explain: the backtest fills at the
    next bar's open with the default fee; paper at the quote the bot saw (the sandbox's mid, the same
    instant) through the same fill model; the canary against the sandbox's book (half its spread away)
    and its fee tier."""
    backtest_fills = [{"price": f.price, "side": f.side.value, "fee": f.fee} for f in result.fills]
    assert len(paper) == len(canary) == len(backtest_fills)
    print("\nfill  side  backtest     paper        canary       paper-bt(bps)  canary-bt(bps)")
    worst = Decimal(0)
    for i, (b, p, c) in enumerate(zip(backtest_fills, paper, canary, strict=True)):
        assert b["side"] == p["side"] == c["side"]
        apart = [(x["price"] - b["price"]) / b["price"] * 10_000 for x in (p, c)]
        worst = max(worst, *(abs(a) for a in apart))
        prices = f"{b['price']:<11}  {p['price']:<11}  {c['price']:<11}"
        print(f"{i:>4}  {b['side']:<4}  {prices}  {apart[0]:>13.2f}  {apart[1]:>14.2f}")
    print(f"final equity: paper {equities[0]}, canary {equities[1]}; backtest PnL {result.final_equity - 100_000:.2f}")
    assert worst < 25, f"fills {worst:.1f} bps apart: more than a spread and the 20 bps slippage tolerance explain"
