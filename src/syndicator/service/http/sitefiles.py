"""The files of the site's root: GET/HEAD of ``/sitemap.xml`` (and its parts), ``/robots.txt``, ``/favicon.ico``.

The builder makes them with each reload and writes them to output_dir too
(``core.sitemap``), so that a static server may answer them itself; here they
are answered from the current Snapshot like the feeds (ETag, 304s, gzip).
Until the first load they are not there, and the request goes on (404).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from syndicator.service.http.answer import Answer
from syndicator.service.http.answer import GzipTaken
from syndicator.service.http.answer import HeaderCache
from syndicator.service.http.answer import answer
from syndicator.service.http.answer import cache_control
from syndicator.service.http.answer import headers_of
from syndicator.service.http.context import Shared

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

SITE_HEADERS = (("Vary", "Accept-Encoding"), ("X-Content-Type-Options", "nosniff"))


class SiteFiles:
    """GET/HEAD of a file of the site's root that the Snapshot holds (by its path, ``/robots.txt``)."""

    def __init__(self, shared: Shared) -> None:
        self.builder = shared.builder
        self.reload_interval = shared.settings.reload_interval
        self._headers = HeaderCache()
        self._gzip = GzipTaken()

    def __call__(self, environ: WSGIEnvironment, path: str) -> Answer | None:
        snapshot = self.builder.snapshot
        if snapshot is None or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return None
        served = snapshot.files.get(path)
        if served is None:
            return None
        zipped = self._gzip(environ)
        known = self._headers.of(snapshot)
        form = known.get((path, zipped))
        if form is None:
            control = cache_control(served.cache, self.reload_interval)
            form = known[(path, zipped)] = headers_of(served, zipped, control, SITE_HEADERS)
        return answer(environ, served, form, zipped)
