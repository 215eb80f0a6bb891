"""core.urls: the site's URL space (posts, archive pages, feeds, the OPML) and which files are hub topics."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from support.factories import make_post
from syndicator.config import Settings
from syndicator.core.urls import OPML
from syndicator.core.urls import PARTNER_FEEDS_PREFIX
from syndicator.core.urls import archive_stem
from syndicator.core.urls import default_post_id
from syndicator.core.urls import feed_of
from syndicator.core.urls import feed_stem
from syndicator.core.urls import file_url
from syndicator.core.urls import is_topic
from syndicator.core.urls import post_path
from syndicator.core.urls import post_slug
from syndicator.core.urls import post_url
from syndicator.core.urls import topic_path


@pytest.mark.parametrize(
    ("path", "topic"),
    [
        ("all.atom", True),
        ("all.json", True),
        ("category/x.rss", True),
        ("category/archive.atom", True),  # a category whose slug is "archive" is no archive page
        ("tag/red.json", True),
        ("archive/3.atom", False),
        ("category/x/archive/12.atom", False),
        (OPML, False),
        ("all.atom.gz", False),
        ("media/a/b.png", False),
        ("all", False),
    ],
)
def test_a_topic_is_a_feed_in_a_feed_format_not_an_archive_page(path: str, topic: bool) -> None:
    """WebSub topics (and the feeds the audience counts) are the feeds, in every format; not archives or the OPML."""
    assert is_topic(path) is topic


@pytest.mark.parametrize("stem", ["all", feed_stem("category", "x"), feed_stem("tag", "a.b"), feed_stem("author", "z")])
def test_every_file_of_a_feed_names_the_feed(stem: str) -> None:
    """feed_of inverts the file paths a feed is written under: each format, each archive page (Atom only)."""
    for fmt in ("atom", "rss", "json"):
        assert feed_of(f"{stem}.{fmt}") == stem
    assert feed_of(f"{archive_stem(stem, 3)}.atom") == stem
    assert feed_of(f"{archive_stem(stem, 3)}.rss") is None
    assert feed_of(stem) is None and feed_of(OPML) is None and feed_of("media/a.png") is None


def test_a_topic_url_is_its_feeds_url_under_site_url() -> None:
    """A topic URL maps back to its feed's path; a URL of another site, of the partners or of an archive does not."""
    settings = Settings(site_url="https://example.org/blog")
    assert topic_path(settings, file_url(settings, "category/x.atom")) == "category/x.atom"
    assert topic_path(settings, "https://example.org/feeds/all.atom") is None
    assert topic_path(settings, file_url(settings, "all.atom", PARTNER_FEEDS_PREFIX)) is None
    assert topic_path(settings, file_url(settings, "archive/2.atom")) is None


@given(st.from_regex(r"[a-z0-9][a-z0-9-]{0,30}", fullmatch=True))
def test_a_post_page_path_gives_back_its_slug(slug: str) -> None:
    """/posts/<slug>/ is a post's page, and the ledger recovers a slug from it."""
    assert post_slug(post_path(slug)) == slug


def test_a_post_url_and_default_id_name_its_page() -> None:
    """The post URL is under site_url; the default id is tag:<authority>,<day>:/posts/<slug> (SPEC)."""
    settings = Settings(site_url="https://example.org/blog")
    assert post_url(settings, make_post("hello")) == "https://example.org/blog/posts/hello/"
    assert default_post_id(settings, "2025-06-01", "hello") == "tag:example.org,2025-06-01:/posts/hello"
    assert post_slug("/category/x/") is None and post_slug("/posts/") is None
