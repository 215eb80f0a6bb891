"""The feed fast path: a WSGI layer that answers GET/HEAD of a feed straight from the current Snapshot.

The hot path of the service, so it skips Flask's routing and request objects;
every other request goes on to the Flask app.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from syndicator.config import Settings
from syndicator.core.plan import FEEDS_PREFIX
from syndicator.served import Served
from syndicator.service.build import Builder
from syndicator.service.http.answer import HeaderCache
from syndicator.service.http.answer import Headers
from syndicator.service.http.answer import answer
from syndicator.service.http.answer import cache_control
from syndicator.service.http.answer import headers_of
from syndicator.service.http.answer import takes_gzip
from syndicator.service.hub import link_header

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

# Browsers show application/atom+xml and rss+xml as plain text (Chromium) or download them: a person who opens a
# feed gets the same bytes as XML, which they render with the feed's CSS stylesheet. Private: no shared cache
# hands that answer to a feed reader.
BROWSER_FEED_TYPE = "application/xml; charset=utf-8"
FEED_HEADERS = (
    ("Vary", "Accept-Encoding"),
    ("Access-Control-Allow-Origin", "*"),
    ("X-Content-Type-Options", "nosniff"),
)
_STILL_LOADING = (("Content-Type", "text/plain; charset=utf-8"), ("Retry-After", "5"), ("Cache-Control", "no-store"))


def opened(environ: WSGIEnvironment) -> bool:
    """Whether a person opened the address in a browser (a navigation), rather than a program fetching it."""
    return environ.get("HTTP_SEC_FETCH_DEST") == "document" or environ.get("HTTP_ACCEPT", "").startswith("text/html")


class FeedServer:
    """WSGI layer that answers GET/HEAD of a feed straight from the current Snapshot.

    The hot path of the service, so it skips Flask's routing and request objects;
    every other request goes on to the Flask app.
    """

    def __init__(self, app: WSGIApplication, builder: Builder, settings: Settings) -> None:
        self.app = app
        self.builder = builder
        self.reload_interval = settings.reload_interval
        self.hub_url = settings.hub_url
        self.base_url = settings.base_url
        self._headers = HeaderCache()

    def _base_headers(self, path: str, feed_file: Served, zipped: bool, browser: bool) -> Headers:
        """The headers of one representation (made once per snapshot)."""
        extra = [
            ("Vary", "Accept-Encoding"),
            ("Access-Control-Allow-Origin", "*"),
            ("X-Content-Type-Options", "nosniff"),
        ]
        if not path.endswith(".opml"):
            extra.append(("Link", link_header(self.hub_url, self.base_url + path)))
        control = cache_control(feed_file.cache, self.reload_interval, private=browser)
        return headers_of(feed_file, zipped, control, extra, media_type=BROWSER_FEED_TYPE if browser else "")

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
        zipped = takes_gzip(environ)
        browser = path.endswith((".atom", ".rss")) and opened(environ)
        key = (path, zipped, browser)
        headers = self._headers.get(snapshot, key) or self._headers.put(
            key, self._base_headers(path, feed_file, zipped, browser)
        )
        answered = answer(environ, feed_file, headers, zipped)
        if answered is None:  # an archive page whose file is gone
            return self.app(environ, start_response)
        status, headers, body = answered
        start_response(status, headers)
        return body
