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

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' https: http: data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
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


def answer(environ: WSGIEnvironment, page: PageFile, status: str = "200 OK") -> Answer:
    """A page's answer to a request: 304 when the client has it, else its bytes (gzipped when allowed).

    An ETag sent with ``W/`` still matches (RFC 9110's weak comparison), and
    either representation's tag gets the 304. ``status`` other than 200 (the
    404 page) is answered as is, without conditional handling.
    """
    zipped = parse_accept_header(environ.get("HTTP_ACCEPT_ENCODING"))["gzip"] > 0
    headers = [*PAGE_HEADERS]
    if status != "200 OK":
        return status, [*headers, *_encoding(zipped, page)], _body(environ, page, zipped)
    headers += [("ETag", quote_etag(page.gzip_etag if zipped else page.etag))]
    headers += [("Last-Modified", http_date(int(page.last_modified)))]
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match:
        tags = parse_etags(if_none_match)
        unchanged = tags.contains_weak(page.etag) or tags.contains_weak(page.gzip_etag)
    else:
        unchanged = not is_resource_modified(environ, last_modified=http_date(int(page.last_modified)))
    if unchanged:
        return "304 Not Modified", [h for h in headers if h[0] != "Content-Type"], b""
    return status, [*headers, *_encoding(zipped, page)], _body(environ, page, zipped)


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

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        snapshot = self.builder.snapshot
        method = environ.get("REQUEST_METHOD", "")
        if snapshot is None or method not in ("GET", "HEAD") or environ.get("QUERY_STRING"):
            return self.app(environ, start_response)
        page = snapshot.pages.by_path.get(unicode_path(environ.get("PATH_INFO", "")))
        if page is None:
            return self.app(environ, start_response)
        status, headers, body = answer(environ, page)
        start_response(status, headers)
        return [body] if method == "GET" else []
