"""Which feeds exist: feed specs with their RFC 5005 archive pages, their files and their hub topics.

Pure: takes the catalog and the settings. No I/O.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import ClassVar

from syndicator.config import Settings
from syndicator.core.catalog import TAXONOMIES
from syndicator.core.catalog import Catalog
from syndicator.core.markup import xml_legal
from syndicator.core.podcasts import show_of
from syndicator.core.urls import FEEDS_PREFIX
from syndicator.core.urls import FORMATS
from syndicator.core.urls import HOME
from syndicator.core.urls import OPML
from syndicator.core.urls import SITE_FEED
from syndicator.core.urls import archive_stem
from syndicator.core.urls import archive_url
from syndicator.core.urls import feed_stem
from syndicator.core.urls import is_topic
from syndicator.core.urls import split_stem
from syndicator.model import Category
from syndicator.model import Departed
from syndicator.model import Post
from syndicator.model import Tombstone
from syndicator.podcastconfig import Show

_TITLES = {
    "category": ("{site} — {name}", "Posts filed under {name} on {site}"),
    "tag": ("{site} — tagged {name}", "Posts tagged {name} on {site}"),
    "author": ("{site} — by {name}", "Posts by {name} on {site}"),
}


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One feed file set to render: a feed (in every format) or one of its archive pages (Atom).

    ``posts`` are the entries it shows, newest first. A feed has ``page`` 0 and
    ``pages`` archive pages (0 when all its posts fit in it); archive page
    ``page`` (1 = oldest) belongs to the feed ``feed_stem``. ``prefix`` is the
    URL path its files are under: the public ``/feeds/``, or the partners'.
    A feed that is a podcast has its ``show``: it holds every post (its
    archive pages are still made), and its RSS is the podcast's feed.
    """

    stem: str  # "all", "category/<slug>", "archive/<n>", "category/<slug>/archive/<n>"
    title: str
    description: str
    page_url: str
    posts: tuple[Post, ...]
    feed_stem: str = ""
    page: int = 0
    pages: int = 0
    tombstones: tuple[Tombstone, ...] = ()  # deleted entries (RFC 6721): a feed's recent ones, a page's in their places
    prefix: str = FEEDS_PREFIX
    show: Show | None = None
    settled: datetime | None = None  # when the last tombstone that left the feed expired: its updated never goes back
    # What its documents show of ``pages`` is ``links``; each of its ``posts`` has its own digest.
    _hash_exclude_: ClassVar[frozenset[str]] = frozenset({"posts", "pages"})

    @property
    def is_public(self) -> bool:
        """A public feed (or page): a WebSub topic set, written to output_dir; not one for partners."""
        return self.prefix == FEEDS_PREFIX

    @property
    def is_archive(self) -> bool:
        return self.page > 0

    @property
    def is_full_archive(self) -> bool:
        """An archive page with a newer page after it: its entries no longer change with new posts."""
        return self.is_archive and self.page < self.pages

    @property
    def links(self) -> tuple[int, int | bool]:
        """What its history links depend on: a feed's page count; a page's number and whether a newer one exists."""
        return (self.page, self.is_full_archive) if self.is_archive else (self.page, self.pages)

    @property
    def paths(self) -> list[str]:
        """The files it renders to, under output_dir."""
        return [f"{self.stem}.atom"] if self.is_archive else [f"{self.stem}.{fmt}" for fmt in FORMATS]

    @property
    def gzipped(self) -> list[str]:
        """The files written with a gzip twin beside them: a feed's, not an archive page's.

        Archive pages are most of the bytes and seldom fetched: a server
        compresses them when asked (nginx's gzip, the feed server's own).
        """
        return [] if self.is_archive else self.paths


@dataclass(frozen=True, slots=True)
class FeedGroup:
    """A feed before paging: the site-wide one, or one category's, tag's or author's."""

    stem: str
    title: str
    description: str
    page_url: str
    posts: tuple[Post, ...]
    tombstones: tuple[Tombstone, ...] = ()
    departed: tuple[Departed, ...] = ()  # every post gone from it, keeping its place on the archive pages


def stems_of(post: Post) -> tuple[str, ...]:
    """The feeds a published post is in: the site-wide one, its categories', tags' and author's."""
    terms = [feed_stem("category", t.slug) for t in post.categories] + [feed_stem("tag", t.slug) for t in post.tags]
    return (SITE_FEED, *terms, feed_stem("author", post.author.slug or "anonymous"))


def feed_groups(
    catalog: Catalog,
    settings: Settings,
    tombstones: Mapping[str, tuple[Tombstone, ...]] | None = None,
    public: Catalog | None = None,
    departed: Mapping[str, tuple[Departed, ...]] | None = None,
) -> Iterator[FeedGroup]:
    """The feeds a catalog has: the site-wide one, then one per category, tag and author (by slug).

    With ``public`` (the partner feeds: ``catalog`` is the partners'), a
    category, tag or author that only posts for partners are in has no public
    page: its feeds link the site's home page instead. ``departed``: each
    feed's posts gone from it (their places on its archive pages).
    """
    stones, places = tombstones or {}, departed or {}
    yield _site_group(catalog, settings, stones.get(SITE_FEED, ()), places.get(SITE_FEED, ()))
    for kind in TAXONOMIES:
        shown = public.taxonomy(kind) if public is not None else None
        for slug, group in catalog.taxonomy(kind).items():
            stem = feed_stem(kind, slug)
            page_url = archive_url(settings, kind, slug) if shown is None or slug in shown else None
            yield _taxonomy_group(settings, kind, group, page_url, stones.get(stem, ()), places.get(stem, ()))


def group_of(catalog: Catalog, settings: Settings, stem: str) -> FeedGroup | None:
    """One public feed group by its stem (``all``, ``category/<slug>``...), or None when the catalog has none."""
    if stem == SITE_FEED:
        return _site_group(catalog, settings, ())
    kind, slug = split_stem(stem)
    group = catalog.taxonomy(kind).get(slug) if kind in TAXONOMIES else None
    if group is None:
        return None
    return _taxonomy_group(settings, kind, group, archive_url(settings, kind, slug), ())


def _site_group(
    catalog: Catalog, settings: Settings, stones: tuple[Tombstone, ...], departed: tuple[Departed, ...] = ()
) -> FeedGroup:
    site = xml_legal(settings.site_title)[0]
    home = archive_url(settings, HOME, "")
    return FeedGroup(SITE_FEED, site, f"Every post of {site}", home, catalog.posts, stones, departed)


def _taxonomy_group(
    settings: Settings,
    kind: str,
    group: Category,
    page_url: str | None,
    stones: tuple[Tombstone, ...],
    departed: tuple[Departed, ...] = (),
) -> FeedGroup:
    """A category's, tag's or author's feed group; without a ``page_url`` (no public page) it links the home page."""
    site = xml_legal(settings.site_title)[0]
    title, description = _TITLES[kind]
    own = xml_legal(settings.categories.description(group.slug))[0].strip() if kind == "category" else ""
    return FeedGroup(
        feed_stem(kind, group.slug),
        title.format(site=site, name=group.name),
        own or description.format(site=site, name=group.name),  # [categories.<slug>] description: the subtitle
        page_url or archive_url(settings, HOME, ""),
        group.posts,
        stones,
        departed,
    )


def with_archives(group: FeedGroup, settings: Settings, prefix: str = FEEDS_PREFIX) -> list[FeedSpec]:
    """A feed of the newest posts (a podcast's: of all of them), plus RFC 5005 archive pages when they do not all fit.

    Page 1 holds the oldest archive_page_size posts, page 2 the next ones, and
    so on; every post is on exactly one page, those still in the feed included.
    A post gone from the feed keeps its place there as its tombstone, so that
    removing one changes its own page and no other.
    """
    stem, posts = group.stem, group.posts
    show = show_of(settings, stem) if prefix == FEEDS_PREFIX else None
    title = xml_legal(show.title)[0] if show is not None and show.title else group.title
    head = (title, group.description, group.page_url)
    settled = _settled(group, settings.tombstone_days)
    if len(posts) <= settings.feed_size:
        return [FeedSpec(stem, *head, posts, stem, 0, 0, group.tombstones, prefix, show, settled)]
    size = settings.archive_page_size
    oldest_first = _in_place(posts, group.departed)[::-1]
    pages = -(-len(oldest_first) // size)
    newest = posts if show is not None else posts[: settings.feed_size]
    specs = [FeedSpec(stem, *head, newest, stem, 0, pages, group.tombstones, prefix, show, settled)]
    for page in range(1, pages + 1):
        places = oldest_first[(page - 1) * size : page * size][::-1]
        entries = tuple(place for place in places if isinstance(place, Post))
        stones = tuple(sorted((p.tombstone for p in places if isinstance(p, Departed)), reverse=True))
        specs.append(
            FeedSpec(
                archive_stem(stem, page),
                f"{title} (archive page {page})",
                group.description,
                group.page_url,
                entries,
                stem,
                page,
                pages,
                stones,
                prefix,
            )
        )
    return specs


def _settled(group: FeedGroup, days: int) -> datetime | None:
    """When the last of a feed's tombstones that left it (``days`` after its post went) expired; None: none did."""
    live = {stone.ref for stone in group.tombstones}
    gone = (d.tombstone.when for d in group.departed if d.tombstone.ref not in live)
    return max((when + timedelta(days=days) for when in gone), default=None)


def _in_place(posts: tuple[Post, ...], departed: tuple[Departed, ...]) -> list[Post | Departed]:
    """A feed's posts, newest first, with those gone from it back in the places they had (by date, then slug:
    the catalog's order)."""
    order: list[Post | Departed] = list(posts)
    for gone in departed:
        order.insert(bisect.bisect_left(order, _place(gone), key=_place), gone)
    return order


def _place(item: Post | Departed) -> tuple[float, str]:
    """Where a post is in a feed, as a key that ascends from the newest: its date (newest first), then its slug."""
    return (-item.date.timestamp(), item.slug)


def feed_specs(
    catalog: Catalog, settings: Settings, tombstones: Mapping[str, tuple[Tombstone, ...]] | None = None
) -> list[FeedSpec]:
    """Every feed of a catalog with its archive pages (the site-wide one first)."""
    groups = feed_groups(catalog, settings, tombstones)
    return [spec for group in groups for spec in with_archives(group, settings)]


def served_paths(specs: Iterable[FeedSpec]) -> set[str]:
    """Every file under output_dir the specs make, the gzip twins of feeds, and the OPML (with its twin)."""
    keep = {path for spec in specs for path in spec.paths} | {f"{path}.gz" for spec in specs for path in spec.gzipped}
    return keep | {OPML, f"{OPML}.gz"}


def topics(specs: Iterable[FeedSpec]) -> frozenset[str]:
    """The files a WebSub hub may be asked about (``urls.is_topic``): every feed in every format."""
    return frozenset(path for spec in specs for path in spec.paths if is_topic(path))
