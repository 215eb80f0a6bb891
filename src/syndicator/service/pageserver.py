"""The page fast path: a WSGI layer that answers GET/HEAD of an HTML page straight from the current Snapshot.

Pages are rendered by the builder once per reload (``incremental.pagememo``);
a request only picks the bytes, with a strong ETag, 304s and gzip, as the feed
fast path does, so a crowd of readers costs what a crowd of feed readers does.
A request it cannot answer from the snapshot (a query string, an unknown path,
a redirect) goes on to the Flask app, which answers from the same pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.http import http_date
from werkzeug.http import is_resource_modified
from werkzeug.http import parse_accept_header
from werkzeug.http import parse_etags
from werkzeug.http import quote_etag

from syndicator.incremental.pagememo import PageFile
from syndicator.service.build import Builder
from syndicator.service.snapshot import Snapshot

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' https: http: data:; media-src 'self' https: http:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"  # forms post to this site only (email subscriptions)
)
PAGE_HEADERS = (
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", "no-cache"),  # kept, but asked again each time: a 304 costs nothing, a new post shows at once
    ("Vary", "Accept-Encoding"),
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
)
Answer = tuple[str, list[tuple[str, str]], bytes]  # status line, headers, body


def answer(
    environ: WSGIEnvironment,
    page: PageFile,
    status: str = "200 OK",
    known: tuple[bool, list[tuple[str, str]]] | None = None,
) -> Answer:
    """A page's answer to a request: 304 when the client has it, else its bytes (gzipped when allowed).

    An ETag sent with ``W/`` still matches (RFC 9110's weak comparison), and
    either representation's tag gets the 304. ``status`` other than 200 (the
    404 page) is answered as is, without conditional handling. ``known``:
    whether the client takes gzip and that representation's ``page_headers``,
    when the caller keeps them.
    """
    if known is None:
        zipped = parse_accept_header(environ.get("HTTP_ACCEPT_ENCODING"))["gzip"] > 0
        if status != "200 OK":
            return status, [*PAGE_HEADERS, *_encoding(zipped, page)], _body(environ, page, zipped)
        known = (zipped, page_headers(page, zipped))
    zipped, headers = known
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match:
        tags = parse_etags(if_none_match)
        unchanged = tags.contains_weak(page.etag) or tags.contains_weak(page.gzip_etag)
    elif environ.get("HTTP_IF_MODIFIED_SINCE"):
        unchanged = not is_resource_modified(environ, last_modified=http_date(int(page.last_modified)))
    else:
        unchanged = False
    if unchanged:
        return "304 Not Modified", [h for h in headers if h[0] not in ("Content-Type", "Content-Length")], b""
    return status, headers, _body(environ, page, zipped)


def page_headers(page: PageFile, zipped: bool) -> list[tuple[str, str]]:
    """The headers of a page's answer, in one representation (gzip or not)."""
    tag = quote_etag(page.gzip_etag if zipped else page.etag)
    dated = [("ETag", tag), ("Last-Modified", http_date(int(page.last_modified)))]
    return [*PAGE_HEADERS, *dated, *_encoding(zipped, page)]


def _encoding(zipped: bool, page: PageFile) -> list[tuple[str, str]]:
    if zipped:
        return [("Content-Encoding", "gzip"), ("Content-Length", str(len(page.gzip_body)))]
    return [("Content-Length", str(page.size))]


def _body(environ: WSGIEnvironment, page: PageFile, zipped: bool) -> bytes:
    """What the answer carries: nothing for HEAD, else the gzip bytes or (rarely asked for) their inflated form."""
    if environ.get("REQUEST_METHOD") == "HEAD":
        return b""
    return page.gzip_body if zipped else page.body


def unicode_path(path: str) -> str:
    """A WSGI PATH_INFO (UTF-8 bytes read as Latin-1) as the text it spells, as pages are keyed."""
    return path if path.isascii() else path.encode("latin-1").decode("utf-8", "replace")


class PageServer:
    """WSGI layer that answers GET/HEAD of an HTML page straight from the current Snapshot's pages.

    Anything else, and any request with a query string (``/?p=<id>`` is a
    WordPress permalink), goes on to the Flask app.
    """

    def __init__(self, app: WSGIApplication, builder: Builder) -> None:
        self.app = app
        self.builder = builder
        self._headers: dict[tuple[str, bool], list[tuple[str, str]]] = {}  # of the snapshot _headers_of
        self._headers_of: Snapshot | None = None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        snapshot = self.builder.snapshot
        method = environ.get("REQUEST_METHOD", "")
        if snapshot is None or method not in ("GET", "HEAD") or environ.get("QUERY_STRING"):
            return self.app(environ, start_response)
        path = unicode_path(environ.get("PATH_INFO", ""))
        page = snapshot.pages.by_path.get(path)
        if page is None:
            return self.app(environ, start_response)
        if snapshot is not self._headers_of:
            self._headers, self._headers_of = {}, snapshot
        zipped = parse_accept_header(environ.get("HTTP_ACCEPT_ENCODING"))["gzip"] > 0
        headers = self._headers.get((path, zipped))
        if headers is None:
            headers = self._headers[(path, zipped)] = page_headers(page, zipped)
        status, headers, body = answer(environ, page, known=(zipped, headers))
        start_response(status, headers)
        return [body] if method == "GET" else []
