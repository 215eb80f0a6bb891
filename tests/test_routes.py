"""One ordered route table says which handler answers which URL; the app is made from it and nothing else."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from syndicator.config import Settings
from syndicator.service.build import Builder
from syndicator.service.http.app import create_app
from syndicator.service.http.routes import ROUTES
from syndicator.service.http.routes import matches

SRC = Path(__file__).resolve().parent.parent / "src" / "syndicator"
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
)


@pytest.fixture
def app(settings: Settings) -> Any:
    return create_app(settings, Builder(settings))


def test_the_app_has_the_tables_views_and_no_other(app: Any) -> None:
    """Every rule of the app is a row of the table, and every view row is a rule: nothing registers routes aside."""
    rules = {(rule.rule, rule.endpoint) for rule in app.url_map.iter_rules()}
    rows = {(r.pattern, r.view.__name__) for r in ROUTES if not r.front and not r.query}
    assert rules == rows


@pytest.mark.parametrize(("url", "handler"), VIEW_URLS)
def test_werkzeug_picks_the_first_row_that_matches(app: Any, url: str, handler: str) -> None:
    """Top to bottom holds for the views too: Werkzeug picks the first view row whose pattern takes the URL."""
    views = [r for r in ROUTES if not r.front and not r.query]
    first = next(r for r in views if matches(r, url))
    assert first.name == handler
    adapter = app.url_map.bind("localhost")
    endpoint, _values = adapter.match(url)
    assert endpoint == first.view.__name__


def test_every_view_row_has_a_url_in_this_test() -> None:
    """A row added to the table is added here too (so the order check above covers it)."""
    named = {handler for _url, handler in VIEW_URLS} | {"websub.websub"}
    assert {r.name for r in ROUTES if not r.front and not r.query} <= named


def test_the_wsgi_entry_is_set_once() -> None:
    """Only create_app sets app.wsgi_app, once: no layer wraps another one aside from the table."""
    found = []
    for module in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                found += [module.name for t in targets if isinstance(t, ast.Attribute) and t.attr == "wsgi_app"]
    assert found == ["app.py"]
