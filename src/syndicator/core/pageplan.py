"""Which HTML pages exist and where: the home page and every archive, paged as WordPress pages them, and posts.

``/`` and ``/<kind>/<slug>/`` show the newest ``page_size`` posts, ``…/page/<n>/``
the next ones; the first page has no ``page/1/`` address (it redirects there).
Pure: takes the catalog and the settings. No I/O.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass

from syndicator.configtables import Categories
from syndicator.core.catalog import TAXONOMIES
from syndicator.core.catalog import Catalog
from syndicator.core.urls import HOME
from syndicator.core.urls import archive_base
from syndicator.core.urls import feed_stem
from syndicator.core.urls import page_path
from syndicator.model import Post

POST = "post"


@dataclass(frozen=True, slots=True)
class Archive:
    """The posts one paged listing shows, before paging: the home page's (every post) or a taxonomy group's."""

    kind: str  # "home", "category", "tag" or "author"
    slug: str  # "" for the home page
    name: str
    posts: tuple[Post, ...]
    description: str = ""  # a category's description ([categories.<slug>]): the archive page's intro

    @property
    def base(self) -> str:
        """The URL path of its first page."""
        return archive_base(self.kind, self.slug)

    @property
    def feed_stem(self) -> str:
        """The stem of its feeds under /feeds/ (``all`` for the home page)."""
        return feed_stem(self.kind, self.slug)


@dataclass(frozen=True, slots=True)
class PageSpec:
    """One numbered page of an archive: its posts (newest first), its number and how many there are."""

    archive: Archive
    posts: tuple[Post, ...]
    page: int
    pages: int

    @property
    def path(self) -> str:
        return page_path(self.archive.base, self.page)

    @property
    def newer(self) -> str | None:
        """The path of the page of newer posts (rel="prev"), None on the first page."""
        return page_path(self.archive.base, self.page - 1) if self.page > 1 else None

    @property
    def older(self) -> str | None:
        """The path of the page of older posts (rel="next"), None on the last page."""
        return page_path(self.archive.base, self.page + 1) if self.page < self.pages else None


def page_count(posts: int, page_size: int) -> int:
    """How many pages ``posts`` posts take (an empty archive still has its first page)."""
    return max(1, -(-posts // page_size))


def archives(catalog: Catalog, site_title: str, categories: Categories | None = None) -> Iterator[Archive]:
    """Every paged listing of a catalog: the home page, then each category (with its description from
    ``categories``), tag and author (by slug)."""
    yield Archive(HOME, "", site_title, catalog.posts)
    for kind in TAXONOMIES:
        for slug, group in catalog.taxonomy(kind).items():
            described = categories.description(slug).strip() if categories is not None and kind == "category" else ""
            yield Archive(kind, slug, group.name, group.posts, described)


def paged(archive: Archive, page_size: int, holding: Iterable[int] | None = None) -> list[PageSpec]:
    """An archive's pages: page 1 holds the newest ``page_size`` posts, page 2 the next ones, and so on.

    ``holding``: only the pages that hold the posts at these places (0: the newest), in order.
    """
    pages = page_count(len(archive.posts), page_size)
    numbers = range(1, pages + 1) if holding is None else sorted({index // page_size + 1 for index in holding})
    return [PageSpec(archive, archive.posts[(n - 1) * page_size : n * page_size], n, pages) for n in numbers]


Directory = tuple[tuple[str, tuple[tuple[str, str, int], ...]], ...]


def reading_order(name: str) -> str:
    """A name as an index sorts it: letters without their accents, case-folded, each script in its own alphabet's
    order (Кино before Яблоко, where their slugs `kino` and `iabloko` put Яблоко first)."""
    bare = unicodedata.normalize("NFKD", name)
    return "".join(character for character in bare if not unicodedata.combining(character)).casefold()


def directory(catalog: Catalog) -> Directory:
    """What the home page lists: the pages (``type: page``) as ``("page", ((path, title, depth), ...))``, by path
    (depth 0 for a top-level page), then each kind of term that has any, with its groups as (slug, name, number of
    posts)."""
    listed: list[tuple[str, tuple[tuple[str, str, int], ...]]] = []
    if catalog.pages:
        pages = sorted(catalog.pages.items())
        listed.append(("page", tuple((path, page.title, path.strip("/").count("/")) for path, page in pages)))
    for kind in TAXONOMIES:
        named = sorted(catalog.taxonomy(kind).items(), key=lambda item: (reading_order(item[1].name), item[0]))
        groups = tuple((slug, group.name, len(group.posts)) for slug, group in named)
        if groups:
            listed.append((kind, groups))
    return tuple(listed)
