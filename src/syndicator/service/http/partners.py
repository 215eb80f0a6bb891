"""The partners' side: /partners/…, answered after the request's credentials name a partner.

``Cache-Control: private``, strong ETags and 304s as on the public feeds, gzip
when asked for; no WebSub Link and no CORS header. Wrong, missing or revoked
credentials get the same 401; a client that keeps presenting wrong ones is
made to wait (429), while a valid token is always answered.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING
from urllib.parse import quote

from syndicator.core.urls import PARTNER_FEEDS_PREFIX
from syndicator.core.urls import feed_of
from syndicator.service.clients import client_address
from syndicator.service.http.answer import Answer
from syndicator.service.http.answer import Headers
from syndicator.service.http.answer import answer
from syndicator.service.http.answer import cache_control
from syndicator.service.http.answer import headers_of
from syndicator.service.http.answer import takes_gzip
from syndicator.service.http.assets import Assets
from syndicator.service.http.context import Shared
from syndicator.service.http.pages import CONTENT_SECURITY_POLICY
from syndicator.service.http.pages import unicode_path
from syndicator.service.partners import partner_of
from syndicator.store.partners import PartnerStore

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

UNAUTHORIZED = b"401 Unauthorized: partner feeds need a partner's token (Bearer, or Basic with the partner's name)\n"
PARTNER_HEADERS = (("Vary", "Accept-Encoding, Authorization"), ("X-Content-Type-Options", "nosniff"))
PAGE_HEADERS = (("Content-Security-Policy", CONTENT_SECURITY_POLICY),)  # a post's page, with the pages' own policy
CHALLENGES = [
    ("WWW-Authenticate", 'Bearer realm="partners"'),
    ("WWW-Authenticate", 'Basic realm="partners", charset="UTF-8"'),
]


class Partners:
    """Every request under /partners/: the partner its credentials name, then what it asks for of the Snapshot.

    Its feeds (/partners/feeds/…), and the pages and files of posts for
    partners only (/partners/posts/<slug>/, /partners/feeds/media/…).
    Nothing under /partners/ goes on to another handler: without a partner
    store (``create_app`` given none) no path here is answered at all.
    """

    def __init__(self, shared: Shared) -> None:
        self.builder, self.store, self.throttle = shared.builder, shared.partners, shared.throttle
        self.audience = shared.audience
        self.base_url = shared.settings.base_url
        self.reload_interval = shared.settings.reload_interval
        self.media = Assets(shared, partners=True)  # the files of posts for partners only

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
        if path.startswith(self.media.prefix):
            return self.media(environ, path) or _plain("404 Not Found", b"404: no such file\n", [], head=head)
        relative = path.removeprefix(PARTNER_FEEDS_PREFIX) if path.startswith(PARTNER_FEEDS_PREFIX) else ""
        served = snapshot.partners.file(relative) if relative else snapshot.partners.page(unicode_path(path))
        if served is None and feed_of(relative) in snapshot.gone.feeds:
            return _plain("410 Gone", b"410: this feed is gone (its last post went)\n", [], head=head)
        if served is None:
            return _plain("404 Not Found", b"404: no such partner feed\n", [], head=head)
        if self.audience is not None and relative:
            self.audience.partner_fetch(partner, relative)
        zipped = takes_gzip(environ)
        extra = [*PARTNER_HEADERS, ("Link", f'<{self.base_url}{quote(path.encode("latin-1"))}>; rel="self"')]
        if served.media_type.startswith("text/html"):
            extra += PAGE_HEADERS
        control = cache_control(served.cache, self.reload_interval, private=True)
        return answer(environ, served, headers_of(served, zipped, control, extra), zipped)

    def _partner(self, environ: WSGIEnvironment, store: PartnerStore, head: bool) -> str | Answer:
        """The partner the request's credentials name, or the refusal (401; 429 for wrong ones presented too often).

        A valid token is always answered: the brake holds back only wrong ones.
        """
        address = client_address(environ)
        header = str(environ.get("HTTP_AUTHORIZATION", ""))
        partner = partner_of(header, store.hashes()) if header else None
        if partner is None:
            wait = self.throttle.wait(address, header) if header else 0.0
            if wait > 0:
                retry = [("Retry-After", str(math.ceil(wait)))]
                return _plain("429 Too Many Requests", b"429: too many failed attempts\n", retry, head=head)
            if header:
                self.throttle.failed(address, header)
            return _plain("401 Unauthorized", UNAUTHORIZED, CHALLENGES, head=head)
        self.throttle.forget(address, header)
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
