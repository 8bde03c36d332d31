"""A headless run's HTML opened in Chromium with the network cut off: every figure is drawn, so the page
needs nothing it does not carry."""

from pathlib import Path

from gpttrader.runs import run_notebook
from gpttrader.store import Database
from gpttrader.store.runs import RUNS_FILE, RunRegistry
from tests.e2e.browser import CHROMIUM, FLAGS, NEEDS_CHROMIUM, ROOT

pytestmark = NEEDS_CHROMIUM


def test_the_research_runs_figures_draw_offline(clean_env: dict[str, str], tmp_path: Path) -> None:
    from playwright.sync_api import Route, sync_playwright

    data = Path(clean_env["GPTTRADER_DATA_DIR"])
    data.mkdir(parents=True)
    (data / "sample").symlink_to(ROOT / "data" / "sample")
    runs = tmp_path / "papermill_runs"
    run = run_notebook(
        "research", {}, notebooks=ROOT / "notebooks", runs=runs, registry=RunRegistry(Database(runs / RUNS_FILE))
    )
    assert run.status == "succeeded", run.error
    assert run.html is not None

    fetched: list[str] = []

    def offline(route: Route) -> None:
        fetched.append(route.request.url)
        route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page()
            page.route("http*://**", offline)
            page.goto(run.html.as_uri())
            figures = page.locator(".plotly-graph-div")
            page.wait_for_function(
                "() => [...document.querySelectorAll('.plotly-graph-div')].every(d => d.querySelector('.main-svg'))",
                timeout=30_000,
            )
            assert figures.count() >= 5
        finally:
            browser.close()
    assert not [url for url in fetched if "plot" in url]  # nbconvert's own require.js and MathJax may be tried
