"""What each public representation depends on, as the cache keys a CDN purges by (Surrogate-Key, Cache-Tag).

Every feed, archive page, page and asset carries its own key first (what a
purge names when its bytes change), then ``site`` (everything at once), then
what it lists: each category, tag and author its posts are filed under, and
each post (``post/<slug>``). Own keys: ``feed/<stem>`` for a feed in every
format and for each archive page (``feed/category/x/archive/3``),
``feed/index`` for the OPML, ``page/<stem>`` for every HTML page of a listing
(``page/all`` for the home pages), ``page/post/<slug>`` for a post's page,
``page<path>`` for a page (``type: page``) served at its path
(``page/about/``: the last slash keeps it apart from a listing's),
``media/<path>`` for an asset. Keys are ASCII without spaces or commas (the
header separators); a header holds HEADER_BYTES at most, own key and ``site``
always. Pure. No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from syndicator.core.plan import FeedSpec
from syndicator.core.plan import stems_of
from syndicator.core.urls import SITE_FEED
from syndicator.digest import digest_text
from syndicator.model import Post

SITE = "site"
INDEX = "feed/index"  # the OPML
HEADER_BYTES = 8000  # of a Surrogate-Key or Cache-Tag header (Fastly and Cloudflare take 16 KB)
KEY_BYTES = 256  # a longer key (a deep media path) ends in a digest of itself instead (Fastly takes 1 KB a key)
_SAFE = "/._~-"


def key(text: str) -> str:
    """A key as a header carries it: percent-encoded outside letters, digits and ``/._~-``; long ones shortened."""
    quoted = quote(text, safe=_SAFE)
    return quoted if len(quoted) <= KEY_BYTES else f"{quoted[: KEY_BYTES - 33]}-{digest_text(quoted)[:32]}"


def listed(posts: Iterable[Post]) -> tuple[str, ...]:
    """What a listing of these posts depends on: the taxonomies they are filed under (sorted), then each post."""
    posts = tuple(posts)
    taxonomies = sorted({stem for post in posts for stem in stems_of(post) if stem != SITE_FEED})
    return (*map(key, taxonomies), *(key(f"post/{post.slug}") for post in posts))


def feed_keys(spec: FeedSpec) -> tuple[str, ...]:
    """A feed's or an archive page's keys."""
    return (key(f"feed/{spec.stem}"), SITE, *listed(spec.posts))


def page_keys(stem: str, posts: Iterable[Post]) -> tuple[str, ...]:
    """The keys of a page of a listing (``stem``: its feeds' stem, ``all`` for the home page)."""
    return (key(f"page/{stem}"), SITE, *listed(posts))


def post_page_keys(post: Post) -> tuple[str, ...]:
    """A post's page's keys."""
    return (key(f"page/post/{post.slug}"), SITE, *listed((post,)))


def site_page_keys(path: str, page: Post) -> tuple[str, ...]:
    """A page's keys (``type: page``, served at ``path``): in no listing, it depends on itself alone."""
    return (key(f"page{path}"), SITE, key(f"post/{page.slug}"))


def asset_keys(path: str) -> tuple[str, ...]:
    """An asset's keys (``path``: under media/)."""
    return (key(f"media/{path}"), SITE)


def header_value(keys: tuple[str, ...], separator: str) -> str:
    """The keys as one header's value, cut (whole keys) at HEADER_BYTES."""
    value = ""
    for item in keys:
        joined = f"{value}{separator}{item}" if value else item
        if len(joined) > HEADER_BYTES:
            break
        value = joined
    return value
