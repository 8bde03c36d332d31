"""Figures shown in a notebook carry their HTML beside plotly's mimetype, and the export embeds plotly.js
once per page, only in a page with a figure that needs it."""

import plotly.graph_objects as go
import plotly.io as pio

from gpttrader.runs.display import FIGURE_CLASS, PLOTLYJS_HEADER, RENDERER, embed_plotlyjs

PAGE = "<html><head><title>run</title></head><body>{}</body></html>"


def test_a_figure_carries_its_html_without_the_library() -> None:
    figure = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))
    bundle = pio.renderers[RENDERER].to_mimebundle(figure.to_dict())
    assert set(bundle) == {"application/vnd.plotly.v1+json", "text/html"}
    assert FIGURE_CLASS in bundle["text/html"]
    assert PLOTLYJS_HEADER not in bundle["text/html"]


def test_plotlyjs_is_embedded_once_where_a_figure_needs_it() -> None:
    figure = go.Figure(go.Scatter(x=[1, 2], y=[3, 4])).to_html(full_html=False, include_plotlyjs=False)
    page = embed_plotlyjs(PAGE.format(figure + figure))
    assert page.count(PLOTLYJS_HEADER) == 1
    assert page.index(PLOTLYJS_HEADER) < page.index("</head>")
    assert embed_plotlyjs(page) == page  # it has the library already
    assert embed_plotlyjs(PAGE.format("<p>no figures</p>")) == PAGE.format("<p>no figures</p>")
