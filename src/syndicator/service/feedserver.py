"""The feed fast path: a WSGI layer that answers GET/HEAD of a feed straight from the current Snapshot.

The hot path of the service, so it skips Flask's routing and request objects;
conditional GET still goes through Werkzeug's own helpers. Every other request
goes on to the Flask app.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.http import http_date
from werkzeug.http import is_resource_modified
from werkzeug.http import parse_accept_header
from werkzeug.http import parse_etags
from werkzeug.http import quote_etag

from syndicator.config import Settings
from syndicator.core.urls import FEEDS_PREFIX
from syndicator.incremental.gzip import compress
from syndicator.service.build import Builder
from syndicator.service.hub import link_header
from syndicator.service.snapshot import FeedFile
from syndicator.service.snapshot import Snapshot

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

ARCHIVE_MAX_AGE = 86400  # a full archive page changes only when one of its posts is edited
# Browsers show application/atom+xml and rss+xml as plain text (Chromium) or download them: a person who opens a
# feed gets the same bytes as XML, which they render with the feed's CSS stylesheet. Private: no shared cache
# hands that answer to a feed reader.
BROWSER_FEED_TYPE = "application/xml; charset=utf-8"
_STILL_LOADING = (("Content-Type", "text/plain; charset=utf-8"), ("Retry-After", "5"), ("Cache-Control", "no-store"))


def opened(environ: WSGIEnvironment) -> bool:
    """Whether a person opened the address in a browser (a navigation), rather than a program fetching it."""
    return environ.get("HTTP_SEC_FETCH_DEST") == "document" or environ.get("HTTP_ACCEPT", "").startswith("text/html")


class FeedServer:
    """WSGI layer that answers GET/HEAD of a feed straight from the current Snapshot.

    The hot path of the service, so it skips Flask's routing and request objects;
    conditional GET still goes through Werkzeug's own helpers. Every other request
    goes on to the Flask app.
    """

    def __init__(self, app: WSGIApplication, builder: Builder, settings: Settings) -> None:
        self.app = app
        self.builder = builder
        self.output_dir = settings.output_dir
        self.cache_control = f"public, max-age={settings.reload_interval}"
        self.long_cache_control = f"public, max-age={ARCHIVE_MAX_AGE}"
        self._headers: dict[tuple[str, bool, bool], list[tuple[str, str]]] = {}
        self.hub_url = settings.hub_url
        self.base_url = settings.base_url
        self._headers_of: Snapshot | None = None

    def _base_headers(self, path: str, feed_file: FeedFile, zipped: bool, browser: bool) -> list[tuple[str, str]]:
        """The headers of one representation (computed once per snapshot)."""
        key = (path, zipped, browser)
        headers = self._headers.get(key)
        if headers is None:
            cache_control = self.long_cache_control if feed_file.long_lived else self.cache_control
            headers = [
                ("Content-Type", BROWSER_FEED_TYPE if browser else feed_file.media_type),
                ("ETag", quote_etag(feed_file.gzip_etag if zipped else feed_file.etag)),
                ("Last-Modified", http_date(int(feed_file.last_modified))),
                ("Cache-Control", cache_control.replace("public", "private") if browser else cache_control),
                ("Vary", "Accept-Encoding"),
                ("Access-Control-Allow-Origin", "*"),
                ("X-Content-Type-Options", "nosniff"),
            ]
            if not path.endswith(".opml"):
                headers.append(("Link", link_header(self.hub_url, self.base_url + path)))
            if zipped:
                headers.append(("Content-Encoding", "gzip"))
            self._headers[key] = headers
        return headers

    def _read(self, relative: str) -> bytes | None:
        """The bytes of a file the snapshot lists (never a path from the request itself)."""
        try:
            return (self.output_dir / relative).read_bytes()
        except OSError:
            return None

    def _read_file(self, relative: str, zipped: bool) -> bytes | None:
        """A file's bytes, or their gzip: its twin's bytes, or (an archive page has none) compressed now."""
        if zipped and (twin := self._read(f"{relative}.gz")) is not None:
            return twin
        body = self._read(relative)
        return compress(body) if zipped and body is not None else body

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "")
        snapshot = self.builder.snapshot
        feed_file = snapshot.files.get(path) if snapshot is not None and path.startswith(FEEDS_PREFIX) else None
        if feed_file is None or method not in ("GET", "HEAD"):
            if snapshot is not None and snapshot.starting and path.startswith(FEEDS_PREFIX):
                start_response("503 Service Unavailable", [*_STILL_LOADING])  # not written by an earlier run
                return [b"the posts are still loading; try again in a few seconds\n"]
            return self.app(environ, start_response)
        if snapshot is not self._headers_of:
            self._headers, self._headers_of = {}, snapshot
        zipped = parse_accept_header(environ.get("HTTP_ACCEPT_ENCODING"))["gzip"] > 0
        headers = self._base_headers(path, feed_file, zipped, path.endswith((".atom", ".rss")) and opened(environ))
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match:
            # Either representation's tag names the same bytes: answer 304 for both. It wins over If-Modified-Since.
            tags = parse_etags(if_none_match)  # compared weakly (RFC 9110 13.1.2): W/"x" matches "x"
            unchanged = tags.contains_weak(feed_file.etag) or tags.contains_weak(feed_file.gzip_etag)
        elif environ.get("HTTP_IF_MODIFIED_SINCE"):
            unchanged = not is_resource_modified(environ, last_modified=http_date(int(feed_file.last_modified)))
        else:
            unchanged = False  # nothing to compare (and no date to format and parse)
        if unchanged:
            start_response("304 Not Modified", [h for h in headers if h[0] != "Content-Type"])
            return []
        if feed_file.on_disk:  # an archive page: too many to keep in memory, read from its file
            body = self._read_file(path.removeprefix(FEEDS_PREFIX), zipped)
            if body is None:
                return self.app(environ, start_response)
        else:
            body = feed_file.gzip_body if zipped else feed_file.body
        start_response("200 OK", [*headers, ("Content-Length", str(len(body)))])
        return [body] if method == "GET" else []
