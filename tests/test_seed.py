"""The bundled posts/ are the seed blog's five articles, as published."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
from pathlib import Path

import feedparser
import pytest

from conftest import SEED_POSTS
from feedcheck import check_file
from syndicator.config import Settings
from syndicator.core.markup import plain_text
from syndicator.service.build import Builder

SEED = Path(__file__).resolve().parent.parent.parent / "shared" / "seed" / "category-archive.txt"


@pytest.fixture(scope="module")
def seed_articles() -> list[tuple[str, str, list[str]]]:
    """(title, excerpt text, categories) of each article in the seed archive."""
    if not SEED.is_file():
        pytest.skip(f"seed archive not found at {SEED}")
    text = SEED.read_text(encoding="utf-8").split("\n", 1)[1]
    found = re.findall(r"\n*(.+?)\n\n(.*?)\nContinue reading\n.*?Filed under ([^\n]+)", text, re.S)
    return [(t.strip(), " ".join(e.split()), [c.strip() for c in cats.split(",")]) for t, e, cats in found]


@pytest.fixture(scope="module")
def seed_build(tmp_path_factory: pytest.TempPathFactory) -> Builder:
    out = tmp_path_factory.mktemp("seed")
    settings = Settings(posts_dir=SEED_POSTS, output_dir=out / "feeds", state_dir=out / "state")
    builder = Builder(settings)
    builder.reload(datetime(2026, 1, 1, tzinfo=UTC))
    return builder


def test_thirteen_categories_each_with_three_feeds(seed_build: Builder) -> None:
    """Every one of the 13 seed categories has .atom, .rss and .json feeds; all validate."""
    snapshot = seed_build.snapshot
    assert snapshot is not None and snapshot.report.problems == ()
    assert len(snapshot.catalog.categories) == 13
    feeds = {path: f for path, f in snapshot.files.items() if path.startswith("/feeds/")}
    for path, feed_file in feeds.items():
        check_file(path, feed_file.body)
    assert len(feeds) == (1 + 13 + 1) * 3 + 1  # site-wide, 13 categories, 1 author; the OPML
    # Beside the feeds, only the files a search engine or a browser asks for at the site's root.
    assert set(snapshot.files) - set(feeds) == {"/sitemap.xml", "/robots.txt", "/favicon.ico"}


def test_tajik_russian_relations_has_all_five_newest_first(
    seed_build: Builder, seed_articles: list[tuple[str, str, list[str]]]
) -> None:
    """The category feed holds the five articles in the archive's order, with every category."""
    body = seed_build.snapshot.files["/feeds/category/tajik-russian-relations.atom"].body
    entries = feedparser.parse(body).entries
    assert [e.title for e in entries] == [a[0] for a in seed_articles]
    for entry, (_, excerpt, categories) in zip(entries, seed_articles, strict=True):
        assert [t.label for t in entry.tags] == categories
        assert " ".join(plain_text(entry.summary).split()) == excerpt
        assert "Continue reading" not in entry.summary and "Continue reading" not in entry.content[0].value
        assert entry.content[0].value.startswith(entry.summary)


def test_json_summary_is_plain_text_excerpt(
    seed_build: Builder, seed_articles: list[tuple[str, str, list[str]]]
) -> None:
    """JSON Feed summaries are the excerpt as plain text."""
    import json

    items = json.loads(seed_build.snapshot.files["/feeds/all.json"].body)["items"]
    assert [" ".join(i["summary"].split()) for i in items] == [a[1] for a in seed_articles]


def test_typographic_characters_are_kept(seed_build: Builder) -> None:
    """WordPress's curly quotes and dashes stay as they are."""
    body = seed_build.snapshot.files["/feeds/all.atom"].body.decode()
    assert "Frustrates Tajikistan’s\u00a0Ambitions" in body  # noqa: RUF001 - the seed's own apostrophe
    assert "“terrorists from Afghanistan”" in body
    assert "The pilots – Vladimir" in body  # noqa: RUF001 - the seed's own dash


def test_bundled_posts_check_clean() -> None:
    """The bundled posts have no problems at all."""
    from syndicator.incremental.postcache import PostCache

    posts, problems = PostCache(Settings(posts_dir=SEED_POSTS)).refresh()
    assert len(posts) == 5 and problems == []
