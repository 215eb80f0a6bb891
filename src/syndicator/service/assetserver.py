"""Assets over HTTP: a WSGI layer answering GET/HEAD of ``/feeds/media/…`` from the files the Snapshot lists.

The path is looked up in the current Snapshot, never opened as the request
names it: only files a build copied into output_dir are served. Conditional
requests (strong ETag, ``304``) and byte ranges (``206``, which podcast players
ask for) go through Werkzeug's own machinery; the file is streamed, never held
in memory. A Range past the end is a ``416`` naming the size; one that is
invalid, of another unit or of several ranges is ignored and the whole file
sent, as RFC 9110 §14.2 allows.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from collections.abc import Mapping
from datetime import UTC
from datetime import datetime
from typing import IO
from typing import TYPE_CHECKING

from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.http import parse_range_header
from werkzeug.wrappers import Response
from werkzeug.wsgi import FileWrapper

from syndicator.config import Settings
from syndicator.core.assets import MEDIA_DIR
from syndicator.core.urls import FEEDS_PREFIX
from syndicator.core.urls import PARTNERS_ROOT
from syndicator.service.assets import partner_media
from syndicator.service.build import Builder
from syndicator.service.snapshot import AssetFile
from syndicator.service.snapshot import Snapshot

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

MEDIA_PATH = f"{FEEDS_PREFIX}{MEDIA_DIR}/"
# An asset is the publisher's file served from the site's own origin: an SVG or a PDF may not run scripts there.
ASSET_SECURITY_POLICY = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"


class AssetServer:
    """WSGI layer: GET/HEAD of an asset the current Snapshot lists; every other request goes on to ``app``.

    ``partners``: the one for the files of posts for partners only (the
    snapshot's partner edition lists them, under /partners/feeds/media/), behind
    the partners' layer; answered ``private`` and without CORS.
    """

    def __init__(self, app: WSGIApplication, builder: Builder, settings: Settings, *, partners: bool = False) -> None:
        self.app = app
        self.builder = builder
        self.partners = partners
        self.prefix = f"{PARTNERS_ROOT}{MEDIA_PATH}" if partners else MEDIA_PATH
        self.output_dir = partner_media(settings) if partners else settings.output_dir
        self.cache_control = f"{'private' if partners else 'public'}, max-age={settings.reload_interval}"

    def _listed(self, snapshot: Snapshot | None) -> Mapping[str, AssetFile]:
        if snapshot is None:
            return {}
        if self.partners:
            return snapshot.partners.assets if snapshot.partners is not None else {}
        return snapshot.assets

    def _open(self, path: str) -> tuple[AssetFile, IO[bytes]] | bool:
        """The asset at a URL path and its file, opened; False when no snapshot lists it, True when it is changing.

        A reload replaces a file before it publishes the Snapshot that lists the
        new one: a file that is not what the snapshot says is looked up again in
        the newest snapshot, and is "changing" (True) if it still differs.
        """
        for _attempt in range(2):
            asset = self._listed(self.builder.snapshot).get(path)
            if asset is None:
                return False
            try:
                handle = open(self.output_dir / asset.path, "rb")  # noqa: SIM115 - closed by the response
            except OSError:
                return False
            st = os.fstat(handle.fileno())
            if (st.st_size, st.st_mtime_ns) == (asset.size, asset.mtime_ns):
                return asset, handle
            handle.close()
        return True

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(self.prefix) or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return self.app(environ, start_response)
        found = self._open(path)
        if found is False:
            return self.app(environ, start_response)
        if found is True:
            start_response("503 Service Unavailable", [("Retry-After", "1"), ("Content-Length", "0")])
            return []
        asset, handle = found
        response = Response(FileWrapper(handle), content_type=asset.media_type, direct_passthrough=True)
        response.content_length = asset.size
        response.set_etag(asset.etag)
        response.last_modified = datetime.fromtimestamp(int(asset.last_modified), UTC)
        headers = response.headers
        headers["Cache-Control"] = self.cache_control
        if not self.partners:
            headers["Access-Control-Allow-Origin"] = "*"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Content-Security-Policy"] = ASSET_SECURITY_POLICY
        try:
            response.make_conditional(_usable_range(environ), accept_ranges=True, complete_length=asset.size)
        except RequestedRangeNotSatisfiable as unsatisfiable:
            # If-None-Match and If-Modified-Since come before Range (RFC 9110 §13.2.2): a 304 still wins.
            response.make_conditional(_without_range(environ), accept_ranges=True, complete_length=asset.size)
            if response.status_code != 304:
                handle.close()
                return unsatisfiable(environ, start_response)
        return response(environ, start_response)


def _usable_range(environ: WSGIEnvironment) -> WSGIEnvironment:
    """The request, without its Range header when that is invalid, not in bytes or several ranges (then ignored)."""
    header = environ.get("HTTP_RANGE")
    if header is None:
        return environ
    wanted = parse_range_header(header)
    if wanted is not None and wanted.units == "bytes" and len(wanted.ranges) == 1:
        return environ
    return _without_range(environ)


def _without_range(environ: WSGIEnvironment) -> WSGIEnvironment:
    return {key: value for key, value in environ.items() if key != "HTTP_RANGE"}
