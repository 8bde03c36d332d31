"""The performance report of a session, read back from its stores after a dev bot run."""

from pathlib import Path

from gpttrader.reports.session import session_report
from tests.integration.engine.dev_sessions import container
from tests.integration.engine.strategies import BuyBtcEveryBar


def test_a_session_reads_back_as_its_report(tmp_path: Path) -> None:
    with container(tmp_path) as c:
        bot = c.create_bot(BuyBtcEveryBar())
        bot.bootstrap()
        bot.run(max_cycles=25)
        bot.shutdown()
        fills = c.orders_store.fills()
    report = session_report(tmp_path / "state" / "dev")
    assert not report.empty
    assert len(report.fills) == len(fills) > 0
    assert report.fills["slippage_bps"].notna().all()  # every fill joined to its decision's mark
    assert len(report.equity) >= 3  # a snapshot every ten cycles, and the first
    summary = report.summary()["value"]
    assert summary["fills"] == len(fills)
    assert summary["fees"] == float(sum(f.fee for f in fills))
    assert report.figure().data
    assert session_report(tmp_path / "state" / "paper").empty
