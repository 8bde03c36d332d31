"""The shipped notebooks run headless as `make demo` runs them: each run's HTML holds its charts, interactive
and offline (every figure's div, plotly.js embedded once and fetched from no CDN), and the paper session the
demo starts stays `active`."""

import re
from pathlib import Path

import pytest

from gpttrader.runs import run_notebook
from gpttrader.runs.display import FIGURE_CLASS, PLOTLYJS_HEADER
from gpttrader.store import Database
from gpttrader.store.runs import RUNS_FILE, RunRegistry

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def data(clean_env: dict[str, str]) -> Path:
    """An empty data dir with the shipped sample candles, as on a clean clone."""
    folder = Path(clean_env["GPTTRADER_DATA_DIR"])
    folder.mkdir(parents=True)
    (folder / "sample").symlink_to(ROOT / "data" / "sample")
    return folder


def charts(html: str) -> int:
    """How many plotly figures the page draws: each is a div and the script that plots into it (nbconvert
    reorders the div's attributes)."""
    divs = len(re.findall(rf'<div [^>]*class="{FIGURE_CLASS}"', html))
    plotted = html.count("Plotly.newPlot(")
    assert divs == plotted, f"{divs} figure divs, {plotted} plotted"
    return divs


@pytest.mark.slow
@pytest.mark.parametrize(("name", "figures"), [("research", 5), ("paper_trading", 1), ("performance_report", 1)])
def test_a_headless_run_keeps_its_charts(data: Path, tmp_path: Path, name: str, figures: int) -> None:
    runs = tmp_path / "papermill_runs"
    if name == "performance_report":  # a report of the session the paper notebook leaves behind
        run_notebook("paper_trading", {}, notebooks=ROOT / "notebooks", runs=runs, registry=registry(runs))
    run = run_notebook(name, {}, notebooks=ROOT / "notebooks", runs=runs, registry=registry(runs))
    assert run.status == "succeeded", run.error
    assert run.html is not None
    html = run.html.read_text(encoding="utf-8")
    assert charts(html) >= figures
    assert html.count(PLOTLYJS_HEADER) == 1  # the library once, however many figures
    assert not re.search(r'<script [^>]*src="[^"]*plot\.ly', html)  # nothing to fetch: it opens offline
    if name == "paper_trading":  # the demo's session starts and stays healthy (its loss limits fit its account)
        assert run.output is not None
        assert "trading state active," in run.output.read_text(encoding="utf-8")
    if name == "performance_report":  # and its standalone page
        [page] = (data / "reports").glob("performance_paper_*.html")
        report = page.read_text(encoding="utf-8")
        assert charts(report) == 1
        assert report.count(PLOTLYJS_HEADER) == 1


def registry(runs: Path) -> RunRegistry:
    return RunRegistry(Database(runs / RUNS_FILE))
