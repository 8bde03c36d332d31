"""Standalone HTML reports, of a backtest and of a paper or live session: every figure and table on one
page, plotly.js embedded once so it opens offline."""

from datetime import UTC, datetime
from html import escape
from pathlib import Path

import pandas as pd

from gpttrader.backtest import BacktestResult
from gpttrader.reports.figures import edge_figure, exposure_figure, regime_figure
from gpttrader.reports.session import SessionReport
from gpttrader.reports.tearsheet import figures as tearsheet


def write_html(
    result: BacktestResult,
    candles: dict[str, pd.DataFrame],
    path: Path,
    *,
    title: str = "Backtest",
) -> Path:
    figures = [*tearsheet(result, candles), exposure_figure(result)]
    if result.risk_state is not None:  # run with a risk manager: what its sizing read
        figures += [edge_figure(result), regime_figure(result)]
    parts = [f.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False) for i, f in enumerate(figures)]
    return _write_page(parts, path, title)


def write_session_html(report: SessionReport, path: Path, *, title: str, session: str = "latest") -> Path:
    """A performance report on one page: its summary, equity and drawdown, round trips, and the risk table of
    `session` (as `SessionReport.risk_table` takes it)."""
    parts = [
        _table("Summary", report.summary()),
        report.figure().to_html(full_html=False, include_plotlyjs="inline"),
        _table("Round trips", report.trades),
        _table(
            f"Risk events ({'all sessions' if session == 'all' else f'session: {session}'})", report.risk_table(session)
        ),
    ]
    return _write_page(parts, path, title)


def stamped(folder: Path, name: str) -> Path:
    """`folder/<name>_<UTC time>.html`: each run's report beside the earlier ones, never over them."""
    return folder / f"{name}_{datetime.now(UTC):%Y%m%dT%H%M%SZ}.html"


def _table(heading: str, frame: pd.DataFrame) -> str:
    body = frame.to_html(border=0, na_rep="", float_format=lambda x: f"{x:,.6g}") if not frame.empty else "<p>none</p>"
    return f"<h2>{escape(heading)}</h2>{body}"


def _write_page(parts: list[str], path: Path, title: str) -> Path:
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title></head>"
        f"<body><h1>{escape(title)}</h1>{''.join(parts)}</body></html>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
