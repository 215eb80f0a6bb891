"""Which feeds exist (core/plan.py): the site-wide, category, tag and author feeds, their RFC 5005 archive pages, their
files and their hub topics."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from support.factories import make_catalog
from support.factories import make_post
from syndicator.config import Settings
from syndicator.core.plan import FeedGroup
from syndicator.core.plan import feed_specs
from syndicator.core.plan import topics
from syndicator.core.plan import with_archives
from syndicator.core.urls import PARTNER_FEEDS_PREFIX
from syndicator.core.urls import SITE_FEED
from syndicator.model import Tombstone


def test_the_topics_of_a_plan_are_its_feeds_files(settings: Settings) -> None:
    """Each feed's three files are topics and its archive pages' are not (one definition for the hub and audience)."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    posts = [make_post(f"p{n}", date=start + timedelta(days=n), categories=("A",)) for n in range(60)]
    specs = feed_specs(make_catalog(*posts), Settings(site_url="https://example.org", feed_size=10))
    assert any(spec.is_archive for spec in specs)
    assert topics(specs) == {path for spec in specs if not spec.is_archive for path in spec.paths}


def group_of_posts(count: int, tombstones: tuple[Tombstone, ...] = ()) -> FeedGroup:
    """A category's feed group of ``count`` posts a day apart, newest first (as a catalog holds them)."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    posts = tuple(make_post(f"p{n}", date=start + timedelta(days=n)) for n in reversed(range(count)))
    return FeedGroup(
        "category/a", "Site — A", "Posts filed under A", "https://example.org/category/a/", posts, tombstones
    )


def test_a_group_that_fits_is_one_complete_feed() -> None:
    """With no more posts than feed_size: one spec, the feed itself, holding every post, its tombstones and prefix."""
    stones = (Tombstone(datetime(2025, 3, 1, tzinfo=UTC), "tag:example.org,2025:/posts/gone"),)
    group = group_of_posts(5, stones)
    (spec,) = with_archives(group, Settings(feed_size=5, archive_page_size=2), PARTNER_FEEDS_PREFIX)
    assert (spec.stem, spec.feed_stem, spec.page, spec.pages) == ("category/a", "category/a", 0, 0)
    assert spec.posts == group.posts and spec.tombstones == stones and spec.prefix == PARTNER_FEEDS_PREFIX
    assert (spec.title, spec.description, spec.page_url) == (group.title, group.description, group.page_url)
    assert not spec.is_archive and spec.paths == ["category/a.atom", "category/a.rss", "category/a.json"]


def test_archive_pages_fill_from_the_oldest_post() -> None:
    """Seven posts, feed_size 3, pages of 3: the feed shows the newest three; page 1 the oldest three, page 2 the
    next three, page 3 the newest one; each page newest first, Atom only, with no tombstones."""
    stones = (Tombstone(datetime(2025, 3, 1, tzinfo=UTC), "tag:example.org,2025:/posts/gone"),)
    group = group_of_posts(7, stones)
    feed, *pages = with_archives(group, Settings(feed_size=3, archive_page_size=3))
    slugs = [[p.slug for p in spec.posts] for spec in (feed, *pages)]
    assert slugs == [["p6", "p5", "p4"], ["p2", "p1", "p0"], ["p5", "p4", "p3"], ["p6"]]
    assert (feed.page, feed.pages, feed.tombstones) == (0, 3, stones)
    assert [(p.stem, p.feed_stem, p.page, p.pages) for p in pages] == [
        (f"category/a/archive/{n}", "category/a", n, 3) for n in (1, 2, 3)
    ]
    assert [p.title for p in pages] == [f"Site — A (archive page {n})" for n in (1, 2, 3)]
    assert all(p.tombstones == () and p.paths == [f"{p.stem}.atom"] and p.gzipped == [] for p in pages)
    assert [p.is_full_archive for p in pages] == [True, True, False]


def test_the_site_feeds_archive_pages_are_under_feeds_archive() -> None:
    """The site-wide feed's pages are archive/<n>, not all/archive/<n>."""
    group = replace(group_of_posts(3), stem=SITE_FEED)
    assert [spec.stem for spec in with_archives(group, Settings(feed_size=1, archive_page_size=2))] == [
        "all",
        "archive/1",
        "archive/2",
    ]


@given(st.integers(min_value=0, max_value=40), st.integers(min_value=1, max_value=8), st.integers(1, 8))
def test_every_post_is_on_exactly_one_archive_page(count: int, feed_size: int, page_size: int) -> None:
    """Property: the feed holds the newest feed_size posts; when more exist, the pages hold every post once, page n
    the n-th archive_page_size oldest, newest first, and there are as many pages as it takes."""
    group = group_of_posts(count)
    feed, *pages = with_archives(group, Settings(feed_size=feed_size, archive_page_size=page_size))
    assert feed.posts == group.posts[:feed_size]
    if count <= feed_size:
        assert pages == [] and feed.pages == 0
        return
    assert len(pages) == feed.pages == -(-count // page_size)
    on_pages = [post for page in reversed(pages) for post in page.posts]
    assert on_pages == list(group.posts)
    assert all(len(page.posts) == page_size for page in pages[:-1]) and 1 <= len(pages[-1].posts) <= page_size
