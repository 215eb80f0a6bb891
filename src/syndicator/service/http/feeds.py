"""The feeds: GET/HEAD of a feed, archive page or the OPML, straight from the current Snapshot (the hot path).

No Flask routing or request object: the headers of each representation are
made once per snapshot. A GET of a feed readers subscribe to is told to the
Audience (a reader's poll, answered 200 or 304).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from syndicator.core.urls import FEEDS_PREFIX
from syndicator.served import Served
from syndicator.service.http.answer import Answer
from syndicator.service.http.answer import Form
from syndicator.service.http.answer import GzipTaken
from syndicator.service.http.answer import HeaderCache
from syndicator.service.http.answer import answer
from syndicator.service.http.answer import cache_control
from syndicator.service.http.answer import cdn_headers
from syndicator.service.http.answer import headers_of
from syndicator.service.http.context import Shared
from syndicator.service.hub import link_header

if TYPE_CHECKING:
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
_LOADING = b"the posts are still loading; try again in a few seconds\n"
_STILL_LOADING = (("Content-Type", "text/plain; charset=utf-8"), ("Retry-After", "5"), ("Cache-Control", "no-store"))


def opened(environ: WSGIEnvironment) -> bool:
    """Whether a person opened the address in a browser (a navigation), rather than a program fetching it."""
    return environ.get("HTTP_SEC_FETCH_DEST") == "document" or environ.get("HTTP_ACCEPT", "").startswith("text/html")


class Feeds:
    """GET/HEAD of a file the Snapshot lists under /feeds/; until the first load, 503 for any other /feeds/ path."""

    def __init__(self, shared: Shared) -> None:
        self.builder = shared.builder
        self.audience = shared.audience
        settings = shared.settings
        self.reload_interval, self.hub_url, self.base_url = (
            settings.reload_interval,
            settings.hub_url,
            settings.base_url,
        )
        self._headers = HeaderCache()
        self._gzip = GzipTaken()

    def _headers_of(self, path: str, feed_file: Served, zipped: bool, browser: bool) -> Form:
        """The headers of one representation (made once per snapshot)."""
        extra = [*FEED_HEADERS]
        if not path.endswith(".opml"):
            extra.append(("Link", link_header(self.hub_url, self.base_url + path)))
        if not browser:  # a person's view of it is private: no CDN keeps it
            extra += cdn_headers(feed_file)
        control = cache_control(feed_file.cache, self.reload_interval, private=browser)
        return headers_of(feed_file, zipped, control, extra, media_type=BROWSER_FEED_TYPE if browser else "")

    def __call__(self, environ: WSGIEnvironment, path: str) -> Answer | None:
        method = environ.get("REQUEST_METHOD", "")
        snapshot = self.builder.snapshot
        if snapshot is None:
            return None
        feed_file = snapshot.files.get(path)
        if feed_file is None or method not in ("GET", "HEAD"):
            if snapshot.starting:  # not written by an earlier run
                return "503 Service Unavailable", [*_STILL_LOADING], [_LOADING]
            return None
        if self.audience is not None and method == "GET" and path[len(FEEDS_PREFIX) :] in snapshot.report.topics:
            self.audience.saw(path[len(FEEDS_PREFIX) :], environ)
        zipped = self._gzip(environ)
        browser = path.endswith((".atom", ".rss")) and opened(environ)
        known = self._headers.of(snapshot)
        form = known.get((path, zipped, browser))
        if form is None:
            form = known[(path, zipped, browser)] = self._headers_of(path, feed_file, zipped, browser)
        return answer(environ, feed_file, form, zipped)  # None: an archive page whose file is gone
