"""The site's URL space, in one place: where posts, archive pages, feeds and the OPML live, and which feeds are topics.

A feed's *stem* is its path under output_dir (and under FEEDS_PREFIX in URLs)
without the extension: ``all``, ``category/<slug>``, ``category/<slug>/archive/<n>``.
A *topic* is a feed readers subscribe to (a WebSub topic, counted by the
audience): a feed file in one of FORMATS that is no archive page; its topic
URL is its absolute URL. Every absolute URL is under site_url. No I/O.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult
from urllib.parse import urlsplit

from syndicator.config import Settings
from syndicator.model import Post

FEEDS_PREFIX = "/feeds/"  # the URL path of output_dir
PARTNERS_ROOT = "/partners"  # what partners reach with their token: the addresses of posts for them alone are under it
PARTNER_FEEDS_PREFIX = f"{PARTNERS_ROOT}{FEEDS_PREFIX}"  # the same feeds for partners: full content, their posts too
POSTS_PREFIX = "/posts/"  # a post's page is /posts/<slug>/
OPML = "index.opml"  # under output_dir: every feed, listed
FORMATS = ("atom", "rss", "json")  # each feed's files, by extension (an archive page is Atom only)
SITE_FEED = "all"  # the stem of the site-wide feed
HOME = "home"  # the kind of the home page's archive (the others are taxonomies: category, tag, author)
_ARCHIVE_PAGE = re.compile(r"(?:^|/)archive/\d+$")  # the end of an archive page's stem
# The first path segments the site's own addresses live under: a page (``type: page``) may not be served there, or
# it would hide them (tests/test_routes.py holds every row of the route table to this list).
SITE_SEGMENTS = frozenset(
    (
        *("feeds", "posts", "category", "tag", "author", "page", "feed", "static", "partners", "stats"),
        *("healthz", "websub", "subscribe", "confirm", "unsubscribe", ".well-known", "nodeinfo", "ap"),
        *("wp-content", "index.php"),  # WordPress's uploads and PATH_INFO addresses of an imported site
    )
)
_PAGE_SEGMENT = re.compile(r"[^/?#%\\\s\x00-\x1f\x7f]+")  # one segment of a page's path: no query, escape or space


def post_path(slug: str) -> str:
    """The URL path of a post's page."""
    return f"{POSTS_PREFIX}{slug}/"


def post_url(settings: Settings, post: Post) -> str:
    """A post's page; a post for partners only has it under PARTNERS_ROOT, behind their token."""
    return f"{settings.base_url}{PARTNERS_ROOT if post.partners_only else ''}{post_path(post.slug)}"


def page_path_of(written: str) -> tuple[str, str]:
    """A page's ``path`` as served (``about/team`` -> ``/about/team/``), and what is wrong with it ("" when nothing)."""
    path = "/" + written.strip().strip("/") + "/"
    segments = path.strip("/").split("/")
    if path == "//":
        return path, "path / is the home page: give the page a path of its own"
    if any(s in (".", "..") or not _PAGE_SEGMENT.fullmatch(s) for s in segments):
        return path, f"path {path!r} is not a URL path of segments without spaces, '?', '#', '%' or '.' alone"
    if segments[0] in SITE_SEGMENTS:
        return path, f"path {path!r} is under /{segments[0]}/, where the site's own addresses are"
    return path, ""


def post_slug(path: str) -> str | None:
    """The slug of the post whose page this URL path is (``/posts/<slug>/``), or None."""
    if not path.startswith(POSTS_PREFIX):
        return None
    return path.removeprefix(POSTS_PREFIX).strip("/") or None


def default_post_id(settings: Settings, day: str, slug: str) -> str:
    """A post's id when its front matter gives none: ``tag:<id_authority>,<YYYY-MM-DD>:/posts/<slug>`` (RFC 4151)."""
    return f"tag:{settings.authority},{day}:{POSTS_PREFIX}{slug}"


def archive_base(kind: str, slug: str) -> str:
    """``/`` for the home page, ``/<kind>/<slug>/`` for a category, tag or author."""
    return "/" if kind == HOME else f"/{kind}/{slug}/"


def page_path(base: str, page: int) -> str:
    """The URL path of page ``page`` of the archive whose first page is ``base`` (page 1 is ``base`` itself)."""
    return base if page == 1 else f"{base}page/{page}/"


def archive_url(settings: Settings, kind: str, slug: str) -> str:
    """The absolute URL of an archive's first page."""
    return f"{settings.base_url}{archive_base(kind, slug)}"


def feed_stem(kind: str, slug: str) -> str:
    """The stem of an archive's feeds: ``all`` for the home page's, ``<kind>/<slug>`` for a taxonomy group's."""
    return SITE_FEED if kind == HOME else f"{kind}/{slug}"


def split_stem(stem: str) -> tuple[str, str]:
    """The kind and slug of a feed's stem (the inverse of ``feed_stem``): ``category/x`` -> (``category``, ``x``)."""
    if stem == SITE_FEED:
        return HOME, ""
    kind, _, slug = stem.partition("/")
    return kind, slug


def archive_stem(stem: str, page: int) -> str:
    """/feeds/archive/<n> for the site-wide feed, /feeds/<feed>/archive/<n> for the others."""
    return f"archive/{page}" if stem == SITE_FEED else f"{stem}/archive/{page}"


def file_url(settings: Settings, path: str, prefix: str = FEEDS_PREFIX) -> str:
    """The absolute URL of a file under output_dir (``category/x.atom``): the one feed-URL function.

    With the partners' ``prefix``, the URL of the same file for partners.
    """
    return f"{settings.base_url}{prefix}{path}"


def feed_url(settings: Settings, stem: str, fmt: str, prefix: str = FEEDS_PREFIX) -> str:
    """The absolute URL of a feed file (``stem`` as in FeedSpec, ``fmt`` its extension)."""
    return file_url(settings, f"{stem}.{fmt}", prefix)


def feed_of(path: str) -> str | None:
    """The stem of the feed a path under output_dir is a file of (``category/x.rss``, ``category/x/archive/2.atom``:
    ``category/x``; ``archive/2.atom``: ``all``), or None when it names no feed file (an archive page is Atom only)."""
    stem, dot, fmt = path.rpartition(".")
    if not dot or fmt not in FORMATS:
        return None
    page = _ARCHIVE_PAGE.search(stem)
    if page is None:
        return stem
    return (stem[: page.start()] or SITE_FEED) if fmt == "atom" else None


def is_topic(path: str) -> bool:
    """Whether a path under output_dir is a topic: ``all.atom``, ``category/x.rss``; not an archive page or the OPML."""
    stem, dot, fmt = path.rpartition(".")
    return bool(dot) and fmt in FORMATS and not _ARCHIVE_PAGE.search(stem)


def topic_path(settings: Settings, url: str) -> str | None:
    """The path under output_dir of a topic URL (``https://site/feeds/all.atom`` -> ``all.atom``), or None."""
    prefix = file_url(settings, "")
    path = url.removeprefix(prefix)
    return path if url.startswith(prefix) and is_topic(path) else None


def split_url(url: str) -> SplitResult:
    """A URL's parts, as ``urlsplit`` gives them; one it cannot split (an IPv6 host never closed, ``http://[::1/x``,
    in a WordPress export or a file on disk) has none: a bad link is no link, never a traceback."""
    try:
        return urlsplit(url)
    except ValueError:
        return urlsplit("")
