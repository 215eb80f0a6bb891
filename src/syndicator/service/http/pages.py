"""The pages: GET/HEAD of an HTML page straight from the current Snapshot, and a page's answer for the app's views.

Pages are rendered by the builder once per reload (``incremental.pagememo``);
a request only picks the bytes, with a strong ETag, 304s and gzip, as the feed
fast path does, so a crowd of readers costs what a crowd of feed readers does.
A request it cannot answer from the snapshot (a query string, an unknown path,
a redirect) goes on to the app's views, which answer from the same pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from syndicator.served import Served
from syndicator.service.http.answer import Answer
from syndicator.service.http.answer import Form
from syndicator.service.http.answer import GzipTaken
from syndicator.service.http.answer import HeaderCache
from syndicator.service.http.answer import answer
from syndicator.service.http.answer import cache_control
from syndicator.service.http.answer import cdn_headers
from syndicator.service.http.answer import headers_of
from syndicator.service.http.answer import takes_gzip
from syndicator.service.http.context import Shared

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' https: http: data:; media-src 'self' https: http:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"  # forms post to this site only (email subscriptions)
)
PAGE_HEADERS = (
    ("Vary", "Accept-Encoding"),
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
)


def page_headers(page: Served, zipped: bool, *, dated: bool = True) -> Form:
    """The headers of a page's answer in one form (gzip or not); a 404 page's are not ``dated``."""
    extra = [*PAGE_HEADERS, *cdn_headers(page)] if dated else PAGE_HEADERS
    return headers_of(page, zipped, cache_control(page.cache, 0), extra, dated=dated)


def answer_page(environ: WSGIEnvironment, page: Served, status: str = "200 OK") -> Answer:
    """A page's answer to a request: 304 when the client has it, else its bytes (gzipped when allowed).

    ``status`` other than 200 (the 404 page) is answered as is, without
    conditional handling.
    """
    zipped = takes_gzip(environ)
    answered = answer(environ, page, page_headers(page, zipped, dated=status == "200 OK"), zipped, status=status)
    if answered is None:  # a page is kept in memory: never
        raise LookupError("a page with no bytes")
    return answered


def unicode_path(path: str) -> str:
    """A WSGI PATH_INFO (UTF-8 bytes read as Latin-1) as the text it spells, as pages are keyed."""
    return path if path.isascii() else path.encode("latin-1").decode("utf-8", "replace")


class Pages:
    """GET/HEAD of an HTML page the current Snapshot holds, for a request without a query string.

    ``/?p=<id>`` is a WordPress permalink, and any other query string is left
    to the app's views, which answer from the same pages.
    """

    def __init__(self, shared: Shared) -> None:
        self.builder = shared.builder
        self._headers = HeaderCache()
        self._gzip = GzipTaken()

    def __call__(self, environ: WSGIEnvironment, path: str) -> Answer | None:
        snapshot = self.builder.snapshot
        if snapshot is None or environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or environ.get("QUERY_STRING"):
            return None
        path = unicode_path(path)
        page = snapshot.pages.by_path.get(path)
        if page is None:
            return None
        zipped = self._gzip(environ)
        known = self._headers.of(snapshot)
        form = known.get((path, zipped))
        if form is None:
            form = known[(path, zipped)] = page_headers(page, zipped)
        return answer(environ, page, form, zipped)
