"""The rest of an imported WordPress site's addresses: its query forms, nested categories, feed names, uploads, pages.

Each answers 301 to the page or feed here that shows the same thing (a feed
for a feed: ``/?feed=rss2`` never gets the home page's HTML), or 404 (410 for
a category, tag or author that went). WordPress ids come through the
``[redirects]`` table, where the import wrote them (digits: ids). Every
Location is built from site_url, never from the request's Host header.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from flask import abort
from flask import current_app
from flask import redirect
from flask import request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from syndicator.core.assets import MEDIA_DIR
from syndicator.core.urls import FEEDS_PREFIX
from syndicator.core.urls import SITE_FEED
from syndicator.core.urls import archive_base
from syndicator.core.urls import feed_stem
from syndicator.core.urls import page_path
from syndicator.core.urls import post_path
from syndicator.service.assets import url_path
from syndicator.service.http import context
from syndicator.service.http import views
from syndicator.service.http.pages import unicode_path

FEED_NAMES = {"rss2": "rss", "rss": "rss", "rdf": "rss", "atom": "atom"}  # WordPress's feed names -> our extensions
UPLOADS = "uploads"  # the folder under posts_dir the import brings the old site's uploads into
_QUERY_TERMS = (("cat", "category"), ("category_name", "category"), ("tag", "tag"), ("author", "author"))
_QUERY_SAFE = "=&;%+/?:@,$!'()*~"  # a query string's own characters, kept as they are in a Location
_RESIZED = re.compile(r"-\d+x\d+(?=\.\w+$)")  # WordPress's smaller copies of an upload: photo-300x200.jpg


def moved(path: str) -> BaseResponse:
    """301 to a path of this site (URL-encoded), under site_url."""
    return redirect(context.settings().base_url + path, 301)


def _paged(base: str) -> str:
    """An archive's page as WordPress's ``paged`` query names it (the first page: the archive's own address)."""
    number = request.args.get("paged", "")
    return page_path(base, int(number)) if number.isdigit() and 1 < int(number) < 10**6 else base


def _slug_of(kind: str, old: str) -> str:
    """The slug here of a WordPress id (``cat``, ``author``) or slug, through [redirects]."""
    return context.settings().redirects.get(kind, old) or old


def _query_term() -> tuple[str, str] | None:
    """The category, tag or author a query names (``cat=<id>``, ``category_name=``, ``tag=``, ``author=<id>``)."""
    for key, kind in _QUERY_TERMS:
        value = request.args.get(key, "")
        if value:
            slug = _slug_of(kind, value)
            context.group_or_404(kind, slug)
            return kind, slug
    return None


def query_feed() -> BaseResponse:
    """``?feed=rss2|rss|rdf|atom`` (with ``&cat=``, ``&tag=``, ``&author=``): 301 to that feed, never a page.

    A comment feed (``feed=comments-rss2``, or with ``p`` / ``page_id``) is no feed here: 404.
    """
    ext = FEED_NAMES.get(request.args["feed"])
    if ext is None or "p" in request.args or "page_id" in request.args:
        abort(404)
    term = _query_term()
    stem = feed_stem(*term) if term is not None else SITE_FEED
    return moved(f"{FEEDS_PREFIX}{quote(stem)}.{ext}")


def query_term() -> BaseResponse:
    """``?cat=<id>``, ``?category_name=<slug>``, ``?tag=<slug>``, ``?author=<id>`` (``&paged=<n>``): 301 to its
    archive page."""
    term = _query_term()
    if term is None:  # an empty value: WordPress shows the home page
        return views.index()
    return moved(quote(_paged(archive_base(*term))))


def query_page() -> BaseResponse:
    """``?page_id=<id>``: 301 to the page (or post) the import gave that id."""
    number = request.args["page_id"]
    if not number.isdigit():
        return views.index()
    return moved(quote(published_path(context.settings().redirects.get("post", number))))


def query_attachment() -> BaseResponse:
    """``?attachment_id=<id>``: an upload's page on WordPress; 301 to the post it was uploaded to (its id leads there
    through [redirects]), else 404."""
    number = request.args["attachment_id"]
    if not number.isdigit():
        abort(404)
    return moved(quote(published_path(context.settings().redirects.get("post", number), page_first=False)))


def query_listing() -> BaseResponse:
    """``?s=<words>`` (WordPress's search results) and ``?m=<YYYYMM…>`` (its date archives): 404, as the site has no
    search and no date archives (``/2013/01/`` is 404 too). The home page, with 200 or 301, would tell readers and
    search engines that it is those results; an empty value is the home page, as on WordPress."""
    if request.args.get("s", "") or request.args.get("m", ""):
        abort(404)
    return views.index()


def published_path(slug: str | None, *, page_first: bool = True) -> str:
    """The path of the page (``type: page``) or post with this slug (following the ledger's renames); else 404."""
    catalog = context.snapshot().catalog
    if slug is None:
        abort(404)
    page = catalog.page_with_slug(slug)
    if page is not None and (page_first or slug not in catalog.by_slug):
        return page.page_path
    if slug not in catalog.by_slug:
        slug = context.snapshot().redirects.get(slug)
    if slug is None or slug not in catalog.by_slug:
        abort(404)
    return post_path(slug)


def page_here() -> BaseResponse | None:
    """The page (``type: page``) at the request's path, asked with a query string; 301 to it without its last slash."""
    path = unicode_path(request.environ.get("PATH_INFO", ""))
    pages = context.snapshot().catalog.pages
    if path in pages:
        return views.page(path)
    if path + "/" in pages:
        return moved(quote(path + "/"))
    return None


def feed_name(name: str) -> BaseResponse:
    """``/feed/rss2/``, ``/feed/rss/``, ``/feed/rdf/``: WordPress's other names of its feed, 301 to the RSS feed."""
    return moved(f"{FEEDS_PREFIX}{SITE_FEED}.{FEED_NAMES[name]}")


def taxonomy_trail(kind: str, trail: str) -> BaseResponse:
    """``/category/<parent>/<child>/`` (and its ``feed/``, ``feed/atom/``, ``page/<n>/``), ``/tag/<slug>/feed/rss2/``:
    301 to the archive page or feed here; 404 unless the parents are the category's own, as WordPress has them."""
    segments = trail.split("/")
    ext, number = "", 1
    if len(segments) > 2 and segments[-2] == "feed" and segments[-1] in FEED_NAMES:
        ext, segments = FEED_NAMES[segments[-1]], segments[:-2]
    elif segments[-1] == "feed":
        ext, segments = "rss", segments[:-1]
    elif len(segments) > 2 and segments[-2] == "page" and segments[-1].isdigit():
        number, segments = int(segments[-1]), segments[:-2]
    slugs = [_slug_of(kind, segment) for segment in segments]
    if not slugs or not _is_chain(kind, slugs) or not 0 < number < 10**6:
        abort(404)
    slug = slugs[-1]
    context.group_or_404(kind, slug)
    if ext:
        return moved(f"{FEEDS_PREFIX}{quote(feed_stem(kind, slug))}.{ext}")
    return moved(quote(page_path(archive_base(kind, slug), number)))


def _is_chain(kind: str, slugs: list[str]) -> bool:
    """Whether the slugs are a category with its ancestors before it, from the top (a tag or author: alone)."""
    if kind != "category":
        return len(slugs) == 1
    categories = context.settings().categories
    parents = ["", *slugs[:-1]]
    return all(categories.parent(slug) == parent for slug, parent in zip(slugs, parents, strict=True))


def upload(name: str) -> BaseResponse:
    """``/wp-content/uploads/<YYYY>/<MM>/<file>``: 301 to the file the import brought into posts_dir/uploads/ (a
    resized copy, ``photo-300x200.jpg``, to the upload itself) when a published post uses it; else 404."""
    assets = context.snapshot().assets
    for candidate in dict.fromkeys((name, _RESIZED.sub("", name))):
        out = f"{MEDIA_DIR}/{UPLOADS}/{candidate}"
        if url_path(out) in assets:
            return moved(quote(f"{FEEDS_PREFIX}{out}"))
    abort(404)


def index_php(rest: str = "") -> BaseResponse:
    """``/index.php/…`` (WordPress's addresses without rewrite rules) and ``/index.php?…``: 301 to the same address
    without it, or straight to where that address moved (an old permalink, a query form): one hop, not two."""
    while rest == "index.php" or rest.startswith("index.php/"):  # /index.php/index.php/…, in one hop too
        rest = rest.removeprefix("index.php").removeprefix("/")
    path = "/" + quote(rest)
    query = quote(request.query_string.decode("latin-1"), safe=_QUERY_SAFE)
    return _moved_on(path, query) or moved(f"{path}?{query}" if query else path)


def index_html(rest: str = "") -> BaseResponse:
    """``/…/index.html``, as a static site (or a link copied from one) names a folder's page: 301 to the folder's
    page, or straight to where the folder's address moved; 404 when it is neither."""
    folder = f"/{rest}/" if rest else "/"
    path, query = quote(folder), quote(request.query_string.decode("latin-1"), safe=_QUERY_SAFE)
    if folder in context.snapshot().pages.by_path:
        return moved(f"{path}?{query}" if query else path)
    return _moved_on(path, query) or abort(404)


def _moved_on(path: str, query: str) -> BaseResponse | None:
    """The 301 the app's views answer a GET of ``path?query`` with, asked within this request; None for any other
    answer (a page or a file served, an error), which the address itself then gives."""
    app = current_app
    with app.test_request_context(path, query_string=query):  # the same app context: the same snapshot
        try:
            answer = app.make_response(app.preprocess_request() or app.dispatch_request())
        except HTTPException:
            return None
    return answer if answer.status_code == 301 and "Location" in answer.headers else None
