"""The pages' renderer over the package's templates and the publisher's theme, tried before it is used.

With ``theme_dir`` set, every page kind of a small sample site (three posts,
one a page, so that paging and the previous and next links show) and the
pages drawn per request (stats, email) are rendered once when the renderer is
made: a theme's template that cannot compile, or that fails while rendering
(an unknown variable, a filter given a value it cannot take), is a
TemplateProblem naming its file and line when serve or build starts, never a
500 when a reader asks for the page. One that fails later on a value only one
post has draws that post's pages with the package's templates, and is a
problem naming its file and line (``check``, ``/healthz``, the log).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from datetime import datetime

from syndicator.config import Settings
from syndicator.core.catalog import Catalog
from syndicator.core.pagerender import RENDER_ERRORS
from syndicator.core.pagerender import PageRenderer
from syndicator.core.pagerender import TemplateProblem
from syndicator.core.pagerender import render_problem
from syndicator.core.parse import parse_post
from syndicator.incremental.pagememo import PageMemo
from syndicator.model import Post
from syndicator.service.stats import FeedReaders
from syndicator.service.stats import stats_values
from syndicator.store.templates import NotText
from syndicator.store.templates import read_templates

SAMPLE_NOW = datetime(2024, 1, 10, tzinfo=UTC)
SAMPLE_POSTS = tuple(
    f"---\ntitle: Sample post {n}\ndate: 2024-01-0{n}\ncategories: [Sample, Other {n}]\ntags: [Example]\n"
    f"summary: The excerpt of sample post {n}.\n---\nThe first paragraph of sample post {n}.\n\n"
    "Continue reading\n\nThe rest, with a [link](https://example.org/) and `code`.\n"
    for n in (1, 2, 3)
)
SAMPLE_PAGE = "---\ntitle: Sample page\ndate: 2024-01-01\ntype: page\npath: /about/\n---\nA page of the site.\n"


def page_renderer(settings: Settings) -> PageRenderer:
    """The renderer of the site's pages; with theme_dir, tried on every page kind (TemplateProblem when it fails)."""
    try:
        layers = read_templates(settings)
    except NotText as exc:
        raise TemplateProblem(exc.path, exc.line, exc.message) from exc
    except OSError as exc:
        raise TemplateProblem(str(exc.filename or settings.theme_dir), 0, exc.strerror or str(exc)) from exc
    renderer = PageRenderer(layers, settings)
    if settings.theme_dir is not None:
        files = {path for layer in layers for _text, path in layer.values()}
        try:
            try_every_page(renderer, settings)
        except RENDER_ERRORS as exc:
            raise render_problem(exc, files) from exc
        if renderer.failed.by_page:  # a sample page the package's templates drew in the theme's place
            raise next(iter(renderer.failed.by_page.values())).problem
    return renderer


def try_every_page(renderer: PageRenderer, settings: Settings) -> None:
    """Render every page kind of the sample site, and the pages drawn per request, with sample values."""
    parsed = [parse_post(text, f"sample-{n}.md", settings) for n, text in enumerate(SAMPLE_POSTS, 1)]
    parsed.append(parse_post(SAMPLE_PAGE, "pages/about.md", settings))  # page.html
    posts = [post for post in parsed if isinstance(post, Post)]
    catalog = Catalog.build(posts, SAMPLE_NOW)
    paged = replace(settings, page_size=1)  # one post a page: the links to older and newer pages show
    PageMemo(paged, renderer).update(catalog, SAMPLE_NOW)
    feed = FeedReaders("all.atom", {"2024-01-09": {"clients": 1, "feedly": 2}})
    renderer.render(
        "stats.html",
        **stats_values([feed], [("all", [1, 0, 0])], [], 1),
        partner_chart="",
        feeds=[(feed, "<svg></svg>")],
        days=30,
        window=["2024-01-09"],
        more=0,
        when=str,
    )
    button = {"action": "/", "label": "Unsubscribe"}
    renderer.render("email.html", title="Check your inbox", lines=["A sample line."], button=button)
    renderer.render("email.html", title="Subscribed", lines=[], button=None)
