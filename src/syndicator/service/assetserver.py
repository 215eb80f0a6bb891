"""Assets over HTTP: a WSGI layer answering GET/HEAD of ``/feeds/media/…`` from the files the Snapshot lists.

The path is looked up in the current Snapshot, never opened as the request
names it: only files a build copied into output_dir are served. Conditional
requests (strong ETag, ``304``) and byte ranges (``206``, which podcast players
ask for) are answered by ``http.answer``; the file is streamed, never held in
memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import IO
from typing import TYPE_CHECKING

from syndicator.config import Settings
from syndicator.core.assets import MEDIA_DIR
from syndicator.core.plan import FEEDS_PREFIX
from syndicator.served import Served
from syndicator.service.build import Builder
from syndicator.service.http.answer import answer
from syndicator.service.http.answer import headers_of

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

MEDIA_PATH = f"{FEEDS_PREFIX}{MEDIA_DIR}/"
# An asset is the publisher's file served from the site's own origin: an SVG or a PDF may not run scripts there.
ASSET_SECURITY_POLICY = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"
ASSET_HEADERS = (
    ("Access-Control-Allow-Origin", "*"),
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", ASSET_SECURITY_POLICY),
)


class AssetServer:
    """WSGI layer: GET/HEAD of an asset the current Snapshot lists; every other request goes on to ``app``."""

    def __init__(self, app: WSGIApplication, builder: Builder, settings: Settings) -> None:
        self.app = app
        self.builder = builder
        self.output_dir = settings.output_dir
        self.cache_control = f"public, max-age={settings.reload_interval}"

    def _open(self, path: str) -> tuple[Served, IO[bytes]] | bool:
        """The asset at a URL path and its file, opened; False when no snapshot lists it, True when it is changing.

        A reload replaces a file before it publishes the Snapshot that lists the
        new one: a file that is not what the snapshot says is looked up again in
        the newest snapshot, and is "changing" (True) if it still differs.
        """
        for _attempt in range(2):
            snapshot = self.builder.snapshot
            asset = snapshot.assets.get(path) if snapshot is not None else None
            if asset is None:
                return False
            try:
                handle = open(asset.file, "rb")  # noqa: SIM115 - closed by the response
            except OSError:
                return False
            st = os.fstat(handle.fileno())
            if (st.st_size, st.st_mtime_ns) == (asset.size, asset.mtime_ns):
                return asset, handle
            handle.close()
        return True

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(MEDIA_PATH) or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return self.app(environ, start_response)
        found = self._open(path)
        if found is False:
            return self.app(environ, start_response)
        if found is True:
            start_response("503 Service Unavailable", [("Retry-After", "1"), ("Content-Length", "0")])
            return []
        asset, handle = found
        headers = headers_of(asset, False, self.cache_control, ASSET_HEADERS)
        answered = answer(environ, asset, headers, False, handle=handle)
        if answered is None:  # an asset is answered from the file opened here: never
            return self.app(environ, start_response)
        status, headers, body = answered
        start_response(status, headers)
        return body
