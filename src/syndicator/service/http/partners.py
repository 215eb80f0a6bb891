"""The partner feeds: /partners/…, answered after the request's credentials name a partner.

``Cache-Control: private``, strong ETags and 304s as on the public feeds, gzip
when asked for; no WebSub Link and no CORS header. Wrong, missing or revoked
credentials get the same 401; a client that keeps presenting wrong ones is
made to wait (429).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from syndicator.core.plan import PARTNER_FEEDS_PREFIX
from syndicator.service.clients import client_address
from syndicator.service.http.answer import Answer
from syndicator.service.http.answer import Headers
from syndicator.service.http.answer import answer
from syndicator.service.http.answer import cache_control
from syndicator.service.http.answer import headers_of
from syndicator.service.http.answer import takes_gzip
from syndicator.service.http.context import Shared
from syndicator.service.partners import partner_of
from syndicator.store.partners import PartnerStore

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

PARTNERS_ROOT = "/partners/"
UNAUTHORIZED = b"401 Unauthorized: partner feeds need a partner's token (Bearer, or Basic with the partner's name)\n"
PARTNER_HEADERS = (("Vary", "Accept-Encoding, Authorization"), ("X-Content-Type-Options", "nosniff"))
CHALLENGES = [
    ("WWW-Authenticate", 'Bearer realm="partners"'),
    ("WWW-Authenticate", 'Basic realm="partners", charset="UTF-8"'),
]


class Partners:
    """Every request under /partners/: the partner its credentials name, then that feed of the Snapshot.

    Nothing under /partners/ goes on to another handler: without a partner
    store (``create_app`` given none) no path here is answered at all.
    """

    def __init__(self, shared: Shared) -> None:
        self.builder, self.store, self.throttle = shared.builder, shared.partners, shared.throttle
        self.audience = shared.audience
        self.base_url = shared.settings.base_url
        self.reload_interval = shared.settings.reload_interval

    def __call__(self, environ: WSGIEnvironment, path: str) -> Answer | None:
        store = self.store
        if store is None:
            return None
        method = environ.get("REQUEST_METHOD", "")
        if method not in ("GET", "HEAD"):
            return _plain("405 Method Not Allowed", b"405: GET or HEAD\n", [("Allow", "GET, HEAD")])
        head = method == "HEAD"
        partner = self._partner(environ, store, head)
        if not isinstance(partner, str):
            return partner  # refused: 401 or 429
        snapshot = self.builder.snapshot
        if snapshot is None or snapshot.partners is None:
            return _plain("503 Service Unavailable", b"503: still loading\n", [("Retry-After", "5")], head=head)
        relative = path.removeprefix(PARTNER_FEEDS_PREFIX) if path.startswith(PARTNER_FEEDS_PREFIX) else ""
        feed_file = snapshot.partners.file(relative) if relative else None
        if feed_file is None:
            return _plain("404 Not Found", b"404: no such partner feed\n", [], head=head)
        if self.audience is not None:
            self.audience.partner_fetch(partner, relative)
        zipped = takes_gzip(environ)
        extra = [*PARTNER_HEADERS, ("Link", f'<{self.base_url}{path}>; rel="self"')]
        control = cache_control(feed_file.cache, self.reload_interval, private=True)
        return answer(environ, feed_file, headers_of(feed_file, zipped, control, extra), zipped)

    def _partner(self, environ: WSGIEnvironment, store: PartnerStore, head: bool) -> str | Answer:
        """The partner the request's credentials name, or the refusal (401; 429 for a client that failed too often)."""
        address = client_address(environ)
        wait = self.throttle.wait(address)
        if wait > 0:
            retry = [("Retry-After", str(math.ceil(wait)))]
            return _plain("429 Too Many Requests", b"429: too many failed attempts\n", retry, head=head)
        header = environ.get("HTTP_AUTHORIZATION")
        partner = partner_of(str(header), store.hashes()) if header else None
        if partner is None:
            if header:
                self.throttle.failed(address)
            return _plain("401 Unauthorized", UNAUTHORIZED, CHALLENGES, head=head)
        self.throttle.forget(address)
        return partner


def _plain(status: str, body: bytes, headers: Headers, *, head: bool = False) -> Answer:
    """A short plain-text answer (without its body for HEAD)."""
    plain = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
        *headers,
    ]
    return status, plain, [] if head else [body]
