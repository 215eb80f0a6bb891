"""One ordered route table says which handler answers which URL; the app is made from it and nothing else."""

from __future__ import annotations

import ast
from typing import Any

import pytest
from click.testing import CliRunner

from support.paths import SRC
from syndicator.cli import cli
from syndicator.config import Settings
from syndicator.core.urls import SITE_SEGMENTS
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app
from syndicator.service.http.routes import ROUTES
from syndicator.service.http.routes import matches
from syndicator.service.http.routes import tried

# A URL of every view row of the table, and the handler that answers it (as `syndicator routes` names it).
VIEW_URLS = (
    ("/", "views.index"),
    ("/page/2/", "views.home_page"),
    ("/category/news/", "views.taxonomy_page"),
    ("/tag/x/page/3/", "views.taxonomy_paged"),
    ("/posts/hello/", "views.post_page"),
    ("/feeds/category/gone.atom", "oldurls.old_taxonomy_feed"),
    ("/feeds/author/gone/archive/2.atom", "oldurls.old_taxonomy_feed"),
    ("/feeds/nothing.txt", "views.unknown_feed"),
    ("/feeds/media/x.png", "views.unknown_feed"),  # an asset no snapshot lists
    ("/robots.txt", "views.not_made"),  # a root file no snapshot holds yet
    ("/sitemap-7.xml", "views.not_made"),
    ("/feed/", "oldurls.wp_feed"),
    ("/feed/atom/", "oldurls.wp_feed_atom"),
    ("/category/news/feed/", "oldurls.wp_taxonomy_feed"),
    ("/author/ann/feed/atom/", "oldurls.wp_taxonomy_feed_atom"),
    ("/healthz", "views.healthz"),
    ("/static/style.css", "views.static_file"),
    ("/stats/", "statspage.stats_page"),
    ("/2019/05/04/old/", "oldurls.old_permalink"),
    ("/2019/05/old/", "oldurls.old_permalink"),
    ("/archives/12/", "oldurls.old_numeric_permalink"),
    ("/old-slug/", "oldurls.old_permalink"),
    ("/old-slug", "oldurls.old_permalink"),
    ("/.well-known/webfinger", "fediweb.webfinger"),
    ("/.well-known/nodeinfo", "fediweb.nodeinfo_index"),
    ("/.well-known/host-meta", "fediweb.host_meta_document"),
    ("/nodeinfo/2.1", "fediweb.nodeinfo_document"),
    ("/ap/actors/blog", "fediweb.actor"),
    ("/ap/actors/tag.x/outbox", "fediweb.outbox"),
    ("/ap/actors/blog/followers", "fediweb.followers"),
    ("/ap/actors/blog/following", "fediweb.following"),
    ("/ap/actors/blog/posts/abc", "fediweb.post_object"),
    ("/confirm/abc", "followpages.confirm"),
    ("/unsubscribe/abc", "followpages.unsubscribe"),
    ("/feed/rss2/", "wpurls.feed_name"),
    ("/feed/rdf/", "wpurls.feed_name"),
    ("/category/parent/child/", "wpurls.taxonomy_trail"),
    ("/category/parent/child/feed/", "wpurls.taxonomy_trail"),
    ("/category/parent/child/page/2/", "wpurls.taxonomy_trail"),
    ("/tag/x/feed/rss2/", "wpurls.taxonomy_trail"),
    ("/wp-content/uploads/2011/05/photo.jpg", "wpurls.upload"),
    ("/index.html", "wpurls.index_html"),
    ("/category/news/index.html", "wpurls.index_html"),
    ("/index.php", "wpurls.index_php"),
    ("/index.php/2011/05/old/", "wpurls.index_php"),
    ("/about/team/", "oldurls.site_page"),
    ("/about/team", "oldurls.site_page"),
)
# The first path segments of rows that a page (``type: page``) may still take: a numeric permalink takes ids only.
PAGES_MAY_USE = {"archives"}
POSTED = (  # the rows that take a POST only
    ("/websub", "websub.websub"),
    ("/ap/inbox", "fediweb.shared_inbox"),
    ("/ap/actors/blog/inbox", "fediweb.actor_inbox"),
    ("/subscribe", "followpages.subscribe"),
    ("/unsubscribe/abc", "followpages.unsubscribe"),
)


def columns(output: str) -> list[tuple[str, str]]:
    """The pattern and handler of each row the command printed (read by the header's columns)."""
    header, *lines = output.splitlines()
    methods, handler, answers = header.index("METHODS"), header.index("HANDLER"), header.index("ANSWERS")
    return [(line[:methods].strip(), line[handler:answers].strip()) for line in lines]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The app over an empty site, made once for this file: its tests only read its url_map."""
    root = tmp_path_factory.mktemp("routes")
    (root / "posts").mkdir()
    settings = Settings(
        site_title="Test Site",
        site_url="https://example.org",
        posts_dir=root / "posts",
        output_dir=root / "feeds",
        state_dir=root / "state",
    )
    return create_app(settings, Builder(settings))


def test_the_app_has_the_tables_views_and_no_other(app: Any) -> None:
    """Every rule of the app is a row of the table, and every view row is a rule: nothing registers routes aside."""
    rules = {(rule.rule, rule.endpoint) for rule in app.url_map.iter_rules()}
    rows = {(r.pattern, r.view.__name__) for r in ROUTES if not r.front and not r.query}
    assert rules == rows


@pytest.mark.parametrize(
    ("url", "handler", "method"), [(*u, "GET") for u in VIEW_URLS] + [(*u, "POST") for u in POSTED]
)
def test_werkzeug_picks_the_first_row_that_matches(app: Any, url: str, handler: str, method: str) -> None:
    """Top to bottom holds for the views too: Werkzeug picks the first view row whose pattern takes the URL."""
    views = [r for r in ROUTES if not r.front and not r.query]
    first = next(r for r in views if matches(r, url, method))
    assert first.name == handler
    adapter = app.url_map.bind("localhost")
    endpoint, _values = adapter.match(url, method)
    assert endpoint == first.view.__name__


def test_every_view_row_has_a_url_in_this_test() -> None:
    """A row added to the table is added here too (so the order check above covers it)."""
    named = {handler for _url, handler in (*VIEW_URLS, *POSTED)}
    assert {r.name for r in ROUTES if not r.front and not r.query} <= named


@pytest.mark.parametrize(
    ("url", "method", "handlers"),
    [
        ("/feeds/media/x.png", "GET", ["assets.Assets", "feeds.Feeds", "pages.Pages", "views.unknown_feed"]),
        ("/feeds/category/news.atom", "GET", ["feeds.Feeds", "pages.Pages", "oldurls.old_taxonomy_feed"]),
        ("/partners/feeds/all.atom", "GET", ["partners.Partners", "pages.Pages", "oldurls.site_page"]),
        ("/posts/hello/", "GET", ["pages.Pages", "views.post_page"]),
        ("/?p=12", "GET", ["pages.Pages", "oldurls.old_query_permalink", "views.index"]),
        ("/feed/", "GET", ["pages.Pages", "oldurls.wp_feed"]),
        ("/websub", "POST", ["websub.websub"]),
        ("/healthz", "GET", ["pages.Pages", "views.healthz"]),
        ("/stats/", "GET", ["pages.Pages", "statspage.stats_page"]),
        ("/?feed=rss2&cat=3", "GET", ["pages.Pages", "wpurls.query_feed", "wpurls.query_term", "views.index"]),
        ("/about/team/", "GET", ["pages.Pages", "oldurls.site_page"]),
    ],
)
def test_which_rows_a_url_is_tried_with(url: str, method: str, handlers: list[str]) -> None:
    """`syndicator routes URL` names the rows that may answer a request, in the order they are tried."""
    path, _, query = url.partition("?")
    assert [r.name for r in tried(path, method, query)] == handlers
    result = CliRunner().invoke(cli, ["routes", url, "--method", method])
    assert result.exit_code == 0, result.output
    assert [handler for _pattern, handler in columns(result.output)] == handlers


def test_no_page_hides_a_row_of_the_table() -> None:
    """Every row's fixed first segment (a folder: /robots.txt is no page's path) is one of SITE_SEGMENTS, where no
    page (``type: page``) may be served."""
    firsts = {r.pattern.split("/")[1] for r in ROUTES if r.pattern.count("/") > 1}  # a page's path ends in /
    fixed = {first for first in firsts if not first.startswith("<")}
    assert fixed - PAGES_MAY_USE <= SITE_SEGMENTS
    assert "index.php" in fixed and "wp-content" in fixed


def test_syndicator_routes_prints_the_table_in_order() -> None:
    """`syndicator routes` lists every row, top to bottom: pattern, methods, handler, what it answers."""
    result = CliRunner().invoke(cli, ["routes"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].split() == ["PATTERN", "METHODS", "HANDLER", "ANSWERS"]
    assert columns(result.output) == [(route.shown, route.name) for route in ROUTES]
    for line, route in zip(result.output.splitlines()[1:], ROUTES, strict=True):
        assert line.endswith(route.note)


def test_the_wsgi_entry_is_set_once() -> None:
    """Only create_app sets app.wsgi_app, once: no layer wraps another one aside from the table."""
    found = []
    for module in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                found += [module.name for t in targets if isinstance(t, ast.Attribute) and t.attr == "wsgi_app"]
    assert found == ["app.py"]
