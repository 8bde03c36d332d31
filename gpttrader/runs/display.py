"""Figures shown in notebooks so that every place a notebook is read draws them. JupyterLab and VS Code draw
plotly's own mimetype; nbconvert has no renderer for it and drops it, so each figure also carries its HTML
in the same output, which nbconvert keeps. That HTML leaves plotly.js out (4.8 MB a copy): the runner's
export embeds it once per file (`embed_plotlyjs`), so the HTML opens offline.
"""

from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from plotly.io.base_renderers import PlotlyRenderer
from plotly.offline import get_plotlyjs

RENDERER = "gpttrader"
# Every figure's HTML (plotly's `to_html` with the library left out) is a div of this class.
FIGURE_CLASS = "plotly-graph-div"
# The first line of plotly.js's licence header: a file that holds it has the library already.
PLOTLYJS_HEADER = "* plotly.js v"


class _MimetypeAndHtml(PlotlyRenderer):  # type: ignore[misc]  # plotly ships no type hints
    def to_mimebundle(self, fig_dict: dict[str, Any]) -> dict[str, Any]:
        bundle: dict[str, Any] = super().to_mimebundle(fig_dict)
        bundle["text/html"] = pio.to_html(
            fig_dict, include_plotlyjs=False, full_html=False, default_width="100%", validate=False
        )
        return bundle


pio.renderers[RENDERER] = _MimetypeAndHtml()


def show(figure: go.Figure) -> None:
    """Display `figure` in the notebook running this, drawn live and in the run's HTML alike."""
    figure.show(renderer=RENDERER)


def embed_plotlyjs(page: str) -> str:
    """`page` (a whole HTML document) with plotly.js embedded in its head, once, when a figure on it needs
    the library and the page does not carry it already (a figure shown with plotly's own `notebook`
    renderer brings a copy)."""
    if FIGURE_CLASS not in page or PLOTLYJS_HEADER in page:
        return page
    script = (
        "<script type='text/javascript'>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>"
        f"<script type='text/javascript'>{get_plotlyjs()}</script>"
    )
    head, found, rest = page.partition("</head>")
    if not found:
        raise ValueError("not an HTML document: no </head> to put plotly.js in")
    return f"{head}{script}{found}{rest}"
