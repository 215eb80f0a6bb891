"""The assets: GET/HEAD of ``/feeds/media/…``, answered from the files the Snapshot lists.

The path is looked up in the current Snapshot, never opened as the request
names it: only files a build copied into output_dir are served. Conditional
requests (strong ETag, ``304``) and byte ranges (``206``, which podcast players
ask for) are answered by ``http.answer``; the file is streamed, never held in
memory. A Range past the end is a ``416`` naming the size; one that is
invalid, of another unit or of several ranges is ignored and the whole file
sent, as RFC 9110 §14.2 allows.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import IO
from typing import TYPE_CHECKING

from syndicator.core.assets import MEDIA_DIR
from syndicator.core.urls import FEEDS_PREFIX
from syndicator.core.urls import PARTNERS_ROOT
from syndicator.served import Served
from syndicator.service.http.answer import Answer
from syndicator.service.http.answer import answer
from syndicator.service.http.answer import cache_control
from syndicator.service.http.answer import cdn_headers
from syndicator.service.http.answer import headers_of
from syndicator.service.http.context import Shared
from syndicator.service.snapshot import Snapshot

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

MEDIA_PATH = f"{FEEDS_PREFIX}{MEDIA_DIR}/"
# An asset is the publisher's file served from the site's own origin: an SVG or a PDF may not run scripts there.
ASSET_SECURITY_POLICY = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"
ASSET_HEADERS = (
    ("Access-Control-Allow-Origin", "*"),  # first: a partner's file has all but this one
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", ASSET_SECURITY_POLICY),
)


class Assets:
    """GET/HEAD of an asset the current Snapshot lists (ranges answered); 503 while its file is being replaced.

    ``partners``: the one for the files of posts for partners only (the
    snapshot's partner edition lists them, under /partners/feeds/media/), asked
    by the partners' handler once the token is checked; answered ``private``
    and without CORS.
    """

    def __init__(self, shared: Shared, *, partners: bool = False) -> None:
        self.builder = shared.builder
        self.reload_interval = shared.settings.reload_interval
        self.partners = partners
        self.prefix = f"{PARTNERS_ROOT}{MEDIA_PATH}" if partners else MEDIA_PATH
        self.extra = ASSET_HEADERS[1:] if partners else ASSET_HEADERS  # no CORS for a partner's

    def _listed(self, snapshot: Snapshot | None) -> Mapping[str, Served]:
        if snapshot is None:
            return {}
        if self.partners:
            return snapshot.partners.assets if snapshot.partners is not None else {}
        return snapshot.assets

    def _open(self, path: str) -> tuple[Served, IO[bytes]] | bool:
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
                handle = open(asset.file, "rb")  # noqa: SIM115 - closed by the answer
            except OSError:
                return False
            st = os.fstat(handle.fileno())
            if (st.st_size, st.st_mtime_ns) == (asset.size, asset.mtime_ns):
                return asset, handle
            handle.close()
        return True

    def __call__(self, environ: WSGIEnvironment, path: str) -> Answer | None:
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return None
        found = self._open(path)
        if found is False:
            return None
        if found is True:
            return "503 Service Unavailable", [("Retry-After", "1"), ("Content-Length", "0")], []
        asset, handle = found
        control = cache_control(asset.cache, self.reload_interval, private=self.partners)
        headers = headers_of(asset, False, control, [*self.extra, *cdn_headers(asset)])
        return answer(environ, asset, headers, False, handle=handle)
