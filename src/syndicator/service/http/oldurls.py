"""The old addresses that keep working: WordPress's feed URLs, and an imported site's permalinks and slugs.

Every Location is built from site_url, never from the request's Host header.
Feeds under /feeds/ are answered by the Feeds handler first (``routes``): an
old feed path reaches these views only when it is no current feed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from flask import abort
from flask import redirect
from flask import request
from flask import url_for
from werkzeug.wrappers import Response as BaseResponse

from syndicator.core.permalinks import read_old_permalink
from syndicator.core.urls import FEEDS_PREFIX
from syndicator.core.urls import SITE_FEED
from syndicator.core.urls import feed_stem
from syndicator.model import Post
from syndicator.service.http import context
from syndicator.service.http.wpurls import moved
from syndicator.service.http.wpurls import page_here
from syndicator.service.http.wpurls import published_path


def wp_feed() -> BaseResponse:
    return redirect(f"{FEEDS_PREFIX}{SITE_FEED}.rss", 301)


def wp_feed_atom() -> BaseResponse:
    return redirect(f"{FEEDS_PREFIX}{SITE_FEED}.atom", 301)


def wp_taxonomy_feed(kind: str, slug: str) -> BaseResponse:
    context.group_or_404(kind, slug)
    return redirect(f"{FEEDS_PREFIX}{feed_stem(kind, slug)}.rss", 301)


def wp_taxonomy_feed_atom(kind: str, slug: str) -> BaseResponse:
    context.group_or_404(kind, slug)
    return redirect(f"{FEEDS_PREFIX}{feed_stem(kind, slug)}.atom", 301)


# -- The old addresses of an imported WordPress site, through [redirects] in the config ----------------------------

_REDIRECT_VIEWS: dict[str, Callable[..., BaseResponse]] = {  # views that only redirect
    "wp_taxonomy_feed": wp_taxonomy_feed,
    "wp_taxonomy_feed_atom": wp_taxonomy_feed_atom,
}


def renamed_taxonomy(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """An old category, tag or author slug of [redirects] answers 301 at the same address under its new slug.

    Run before the view of every route with a ``kind`` and a ``slug``.
    """
    if endpoint is None or not values or "kind" not in values or "slug" not in values:
        return
    new = context.settings().redirects.get(values["kind"], values["slug"])
    if new is None:
        return
    snapshot = context.snapshot()
    taxonomy = snapshot.catalog.taxonomy(values["kind"])
    if values["slug"] in taxonomy or new not in taxonomy:
        return
    renamed = {**values, "slug": new}
    if endpoint in _REDIRECT_VIEWS:  # one hop: the WordPress feed URL goes straight to the new feed
        abort(_REDIRECT_VIEWS[endpoint](**renamed))
    target = url_for(endpoint, **renamed)
    if not target.startswith(FEEDS_PREFIX) or target in snapshot.files:
        abort(moved(target))


def old_taxonomy_feed(kind: str, slug: str, ext: str = "atom", number: int = 0) -> BaseResponse:
    """No current feed has this path; a renamed slug was redirected before the view (``renamed_taxonomy``).

    The feed of a category, tag or author that was published and is no more is 410 Gone.
    """
    abort(410 if feed_stem(kind, slug) in context.snapshot().gone.feeds else 404)


def _post_moved(slug: str | None, *, page_first: bool = False) -> BaseResponse:
    """301 to the page of a post (following the ledger's renames) or of a page (``type: page``) with this slug, or 404
    when none is published."""
    return moved(quote(published_path(slug, page_first=page_first)))


def old_permalink(slug: str, year: int = 0, month: int = 0, day: int = 0, *, numeric: bool = True) -> BaseResponse:
    """WordPress permalinks (/YYYY/MM/DD/<slug>/, /YYYY/MM/<slug>/, /<slug>/) answer 301 to the post's page.

    Of posts that shared a slug on WordPress (imported as <slug>, <slug>-2...), a dated
    permalink goes to the one of that date. A page at the address, asked with a query string, is answered.
    Digits are a post's id where a permalink structure puts one (``numeric``), else only a slug.
    """
    here = page_here()
    if here is not None:
        return here
    if not slug.isdigit() or (numeric and slug not in context.snapshot().catalog.by_slug):  # digits: an id
        slug = context.settings().redirects.get("post", slug) or slug
    if year:
        by_slug = context.snapshot().catalog.by_slug
        candidates = [slug, *(f"{slug}-{n}" for n in range(2, 10))]
        slug = next((s for s in candidates if s in by_slug and _dated(by_slug[s], year, month, day)), slug)
    return _post_moved(slug)


def site_page(path: str) -> BaseResponse:
    """A page (``type: page``) at a nested path asked with a query string (the Pages handler answers the rest); else
    an old permalink of another shape (``/<category>/<slug>/``), by its last segment, as WordPress guesses it, and
    a post's page number after it (``/<post>/2/``, ``/<post>/page/2/``: the post)."""
    found = page_here()
    if found is not None:
        return found
    permalink = read_old_permalink(path)
    if permalink is None:
        abort(404)
    p = permalink
    return old_permalink(p.name, p.year, p.month, p.day, numeric=p.numeric)


def _dated(post: Post, year: int, month: int, day: int) -> bool:
    """Whether a post's date, in some time zone (UTC-12 to UTC+14, as WordPress's local dates are), is this one."""
    earliest, latest = post.date - timedelta(hours=12), post.date + timedelta(hours=14)
    if not day:
        return (earliest.year, earliest.month) <= (year, month) <= (latest.year, latest.month)
    try:
        return earliest.date() <= date(year, month, day) <= latest.date()
    except ValueError:  # no such day (an address made up by hand)
        return False


def old_numeric_permalink(post_id: int) -> BaseResponse:
    """WordPress's numeric permalinks answer 301 to the post (or page), through the [redirects] post ids."""
    return _post_moved(context.settings().redirects.get("post", str(post_id)))


def old_query_permalink() -> BaseResponse | None:
    """/?p=<id> (WordPress's default permalinks) answers 301 to the post (or page), through the [redirects] post ids.

    None (the home page answers) unless ``p`` is a number: WordPress reads ?p=abc as the home page.
    """
    if not request.args.get("p", "").isdigit():
        return None
    return _post_moved(context.settings().redirects.get("post", request.args["p"]))
