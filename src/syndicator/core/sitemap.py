"""What search engines read at the site's root: ``sitemap.xml`` (sitemaps.org 0.9) and ``robots.txt``.

The sitemap lists the home page, every post's page, every page (``type: page``)
and every archive's first page (category, tag, author), each with its
``lastmod``: a post's or page's ``updated``, an archive's newest post's. Past
MAX_URLS addresses (the protocol's limit for one file) ``sitemap.xml`` is a
sitemap index of ``sitemap-1.xml``,
``sitemap-2.xml``…, each of at most MAX_URLS, all at the root (a sitemap may
list only addresses under its own folder). Posts for partners only are never
listed (the catalog is the public one). Deterministic. No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Sequence
from datetime import datetime
from operator import attrgetter
from urllib.parse import quote

from syndicator.config import Settings
from syndicator.core.catalog import Catalog
from syndicator.core.markup import xml_escape
from syndicator.core.pageplan import archives
from syndicator.core.urls import PARTNERS_ROOT
from syndicator.core.urls import post_url
from syndicator.model import Post

SITEMAP = "sitemap.xml"  # at the site's root, and in output_dir
ROBOTS = "robots.txt"
FAVICON = "favicon.ico"
STATS_PATH = "/stats/"  # the readers' charts, behind the stats token
MAX_URLS = 50_000  # addresses in one sitemap file (sitemaps.org; its 50 MB limit is far: ~200 bytes an address)
NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


_UPDATED = attrgetter("updated")
_PART = re.compile(r"sitemap-[1-9][0-9]*\.xml(\.gz)?")


def part_name(number: int) -> str:
    """The file of one part of a sitemap past MAX_URLS (numbered from 1)."""
    return f"sitemap-{number}.xml"


def is_part(name: str) -> bool:
    """Whether a file's name is one a part of the sitemap has (or its .gz twin)."""
    return _PART.fullmatch(name) is not None


def is_root_file(name: str) -> bool:
    """Whether a file of output_dir is one the site answers at its root (the sitemap and its parts, robots.txt,
    the icon; or its .gz twin)."""
    return name.removesuffix(".gz") in (SITEMAP, ROBOTS, FAVICON) or is_part(name)


def url_line(url: str, when: datetime) -> str:
    """One address's <url> element (a line of the urlset)."""
    return f"<url><loc>{_loc(url)}</loc><lastmod>{when.isoformat()}</lastmod></url>\n"


def post_line(settings: Settings, post: Post) -> str:
    """A post's <url> element: its page, as of its ``updated``."""
    return url_line(post_url(settings, post), post.updated)


def newest_update(posts: tuple[Post, ...]) -> datetime:
    """An archive's lastmod: the latest ``updated`` of its posts."""
    newest: datetime = max(map(_UPDATED, posts))
    return newest


def lines(
    catalog: Catalog,
    settings: Settings,
    post_lines: Sequence[str] | None = None,
    lastmod: Callable[[tuple[Post, ...]], datetime] = newest_update,
) -> tuple[list[str], list[datetime]]:
    """Every listed address's <url> element, and beside it its lastmod: the home page and archives' first pages
    (dated by ``lastmod``), every post's page (``post_lines``, one a post of ``catalog.posts`` when a memo has
    them; else post_line's), every page."""
    base = settings.base_url
    listed: list[str] = []
    dates: list[datetime] = []
    for archive in archives(catalog, settings.site_title):
        if archive.posts:
            when = lastmod(archive.posts)
            listed.append(url_line(f"{base}{archive.base}", when))
            dates.append(when)
    listed += post_lines if post_lines is not None else [post_line(settings, post) for post in catalog.posts]
    dates += map(_UPDATED, catalog.posts)
    for path, page in catalog.pages.items():  # pages (type: page), at their paths
        listed.append(url_line(f"{base}{path}", page.updated))
        dates.append(page.updated)
    return listed, dates


def sitemap_files(
    catalog: Catalog,
    settings: Settings,
    limit: int = MAX_URLS,
    post_lines: Sequence[str] | None = None,
    lastmod: Callable[[tuple[Post, ...]], datetime] = newest_update,
) -> dict[str, bytes]:
    """``sitemap.xml``, a urlset; or past ``limit`` addresses, an index of its parts (and the parts): {name: bytes}."""
    listed, dates = lines(catalog, settings, post_lines, lastmod)
    if len(listed) <= limit:
        return {SITEMAP: _urlset(listed)}
    starts = range(0, len(listed), limit)
    files = {part_name(n): _urlset(listed[start : start + limit]) for n, start in enumerate(starts, 1)}
    entries = "".join(
        f"<sitemap><loc>{_loc(f'{settings.base_url}/{part_name(n)}')}</loc>"
        f"<lastmod>{max(dates[start : start + limit]).isoformat()}</lastmod></sitemap>\n"
        for n, start in enumerate(starts, 1)
    )
    index = f'{_DECLARATION}<sitemapindex xmlns="{NAMESPACE}">\n{entries}</sitemapindex>\n'
    return {SITEMAP: index.encode("utf-8"), **files}


def _urlset(listed: list[str]) -> bytes:
    return f'{_DECLARATION}<urlset xmlns="{NAMESPACE}">\n{"".join(listed)}</urlset>\n'.encode()


def _loc(url: str) -> str:
    """An address as a sitemap's <loc>: any character outside URLs percent-encoded (UTF-8), then XML-escaped."""
    return xml_escape(quote(url, safe=":/?#[]@!$&'()*+,;=%~"))


def robots_txt(settings: Settings) -> bytes:
    """Every crawler welcome, except on the partners' and the stats' addresses; where the sitemap is."""
    private = "".join(f"Disallow: {path}\n" for path in (f"{PARTNERS_ROOT}/", STATS_PATH))
    return f"User-agent: *\n{private}\nSitemap: {settings.base_url}/{SITEMAP}\n".encode()
