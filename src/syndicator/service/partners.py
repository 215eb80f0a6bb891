"""Private feeds for partners: tokens, who a request's credentials name, and the WSGI layer for /partners/.

A token is ``synp_`` and 43 URL-safe characters (256 random bits from
``secrets``), shown once by ``partners add``; only its SHA-256 is stored (a
random 256-bit token needs no slow hash). A request names it as
``Authorization: Bearer <token>`` or HTTP Basic (user: the partner's name,
password: the token); the hash of what it presents is compared with
``hmac.compare_digest`` against every partner's (Bearer) or the named one's
(Basic). Wrong, missing, malformed or revoked credentials all get the same
401; a client that keeps presenting wrong ones is made to wait (``Throttle``), but
valid credentials are always answered.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Iterable
from datetime import UTC
from datetime import datetime
from typing import TYPE_CHECKING

from werkzeug.http import http_date
from werkzeug.http import is_resource_modified
from werkzeug.http import parse_accept_header
from werkzeug.http import parse_etags
from werkzeug.http import quote_etag

from syndicator.config import Settings
from syndicator.core.urls import PARTNER_FEEDS_PREFIX
from syndicator.core.urls import PARTNERS_ROOT
from syndicator.service.assetserver import AssetServer
from syndicator.service.audience import Audience
from syndicator.service.build import Builder
from syndicator.service.clients import Throttle
from syndicator.service.clients import client_address
from syndicator.service.pageserver import CONTENT_SECURITY_POLICY
from syndicator.service.pageserver import unicode_path
from syndicator.service.snapshot import FeedFile
from syndicator.store.partners import PartnerStore

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

TOKEN_PREFIX = "synp_"  # noqa: S105 - the start of every token, not a secret
_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]{1,256}")  # RFC 6750 token68: what a Bearer token may look like
_NO_MATCH = hashlib.sha256(b"no partner has this").hexdigest()  # compared against when a Basic name is unknown
MAX_HEADER = 1024  # bytes of an Authorization header looked at
_UNDER_ROOT = f"{PARTNERS_ROOT}/"  # every address a partner reaches starts so
UNAUTHORIZED = b"401 Unauthorized: partner feeds need a partner's token (Bearer, or Basic with the partner's name)\n"
CHALLENGES = [
    ("WWW-Authenticate", 'Bearer realm="partners"'),
    ("WWW-Authenticate", 'Basic realm="partners", charset="UTF-8"'),
]


def new_token() -> str:
    """A new partner token: 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored of a token, and compared: its SHA-256, in hex."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def credentials(header: str) -> tuple[str | None, str] | None:
    """(name or None, token) of a Bearer or Basic Authorization header; None when it is neither, or malformed."""
    if len(header) > MAX_HEADER:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and _TOKEN.fullmatch(value):
        return None, value
    if scheme.lower() == "basic":
        try:
            name, colon, token = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        if colon and name and token:
            return name, token
    return None


def partner_of(header: str, hashes: dict[str, str]) -> str | None:
    """The partner whose token the header presents; None for anything else, in time that does not tell why."""
    found = credentials(header)
    if found is None:
        return None
    name, token = found
    presented = token_hash(token)
    if name is not None:
        match = hmac.compare_digest(presented, hashes.get(name, _NO_MATCH))
        return name if match and name in hashes else None
    partner = None
    for candidate, stored in hashes.items():  # every one compared: the time does not tell which matched
        if hmac.compare_digest(presented, stored):
            partner = candidate
    return partner


class PartnerServer:
    """WSGI layer for /partners/: checks the credentials, then answers from the Snapshot's partner feeds.

    ``Cache-Control: private``, strong ETags and 304s as on the public feeds,
    gzip when asked for; no WebSub Link and no CORS header. Every other path
    goes on to the next layer.
    """

    def __init__(
        self,
        app: WSGIApplication,
        builder: Builder,
        settings: Settings,
        store: PartnerStore,
        throttle: Throttle,
        audience: Audience | None = None,
    ) -> None:
        self.app, self.builder, self.store, self.throttle, self.audience = app, builder, store, throttle, audience
        self.base_url = settings.base_url
        self.cache_control = f"private, max-age={settings.reload_interval}"
        self.media = AssetServer(_no_such_file, builder, settings, partners=True)  # files of posts for partners

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if not path.startswith(_UNDER_ROOT):
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "")
        if method not in ("GET", "HEAD"):
            return _plain(start_response, "405 Method Not Allowed", b"405: GET or HEAD\n", [("Allow", "GET, HEAD")])
        head, address = method == "HEAD", client_address(environ)
        header = str(environ.get("HTTP_AUTHORIZATION", ""))
        partner = partner_of(header, self.store.hashes()) if header else None
        if partner is None:  # a valid token is always answered: the brake holds back only wrong ones
            wait = self.throttle.wait(address, header) if header else 0.0
            if wait > 0:
                retry = [("Retry-After", str(math.ceil(wait)))]
                too_many = b"429: too many failed attempts\n"
                return _plain(start_response, "429 Too Many Requests", too_many, retry, head=head)
            if header:
                self.throttle.failed(address, header)
            return _plain(start_response, "401 Unauthorized", UNAUTHORIZED, CHALLENGES, head=head)
        self.throttle.forget(address, header)
        snapshot = self.builder.snapshot
        if snapshot is None or snapshot.partners is None:
            busy = [("Retry-After", "5")]
            return _plain(start_response, "503 Service Unavailable", b"503: still loading\n", busy, head=head)
        if path.startswith(self.media.prefix):
            return self.media(environ, start_response)
        relative = path.removeprefix(PARTNER_FEEDS_PREFIX) if path.startswith(PARTNER_FEEDS_PREFIX) else ""
        feed_file = snapshot.partners.file(relative) if relative else snapshot.partners.page(unicode_path(path))
        if feed_file is None:
            return _plain(start_response, "404 Not Found", b"404: no such partner feed\n", [], head=head)
        if self.audience is not None and relative:
            self.audience.partner_fetch(partner, relative)
        return self._answer(environ, start_response, path, feed_file, method)

    def _answer(
        self, environ: WSGIEnvironment, start_response: StartResponse, path: str, feed_file: FeedFile, method: str
    ) -> Iterable[bytes]:
        """200 or 304 for a partner feed, by its ETag (weakly compared) or its Last-Modified."""
        zipped = parse_accept_header(environ.get("HTTP_ACCEPT_ENCODING"))["gzip"] > 0
        headers = [
            ("Content-Type", feed_file.media_type),
            ("ETag", quote_etag(feed_file.gzip_etag if zipped else feed_file.etag)),
            ("Last-Modified", http_date(int(feed_file.last_modified))),
            ("Cache-Control", self.cache_control),
            ("Vary", "Accept-Encoding, Authorization"),
            ("X-Content-Type-Options", "nosniff"),
            ("Link", f'<{self.base_url}{path}>; rel="self"'),
        ]
        if zipped:
            headers.append(("Content-Encoding", "gzip"))
        if feed_file.media_type.startswith("text/html"):  # a post's page, with the pages' own policy
            headers.append(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match:
            tags = parse_etags(if_none_match)
            unchanged = tags.contains_weak(feed_file.etag) or tags.contains_weak(feed_file.gzip_etag)
        else:
            unchanged = not is_resource_modified(environ, last_modified=http_date(int(feed_file.last_modified)))
        if unchanged:
            start_response("304 Not Modified", [h for h in headers if h[0] != "Content-Type"])
            return []
        body = feed_file.gzip_body if zipped else feed_file.body
        start_response("200 OK", [*headers, ("Content-Length", str(len(body)))])
        return [body] if method == "GET" else []


def _no_such_file(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """What answers a partner's request for a file no post for partners has."""
    return _plain(start_response, "404 Not Found", b"404: no such file\n", [], head=environ["REQUEST_METHOD"] == "HEAD")


def _plain(
    start_response: StartResponse, status: str, body: bytes, headers: list[tuple[str, str]], *, head: bool = False
) -> list[bytes]:
    """A short plain-text answer (without its body for HEAD)."""
    start_response(
        status,
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            *headers,
        ],
    )
    return [] if head else [body]


def presents(header: str, secret: str) -> bool:
    """Whether an Authorization header presents this secret (as a Bearer token, or a Basic password)."""
    found = credentials(header)
    return found is not None and hmac.compare_digest(token_hash(found[1]), token_hash(secret))


def add_partner(settings: Settings, name: str, now: float) -> list[str]:
    """``partners add``: make a partner; its token (shown this once), then how to use it.

    Only the token's hash is kept. PartnerError when the name is taken.
    """
    token = new_token()
    store = PartnerStore(settings.state_dir)
    try:
        store.add(name, token_hash(token), now)
    finally:
        store.close()
    return [
        token,
        f"partner {name} added; the token is not shown again. Feeds: {settings.base_url}{PARTNER_FEEDS_PREFIX}all.atom"
        f" with 'Authorization: Bearer <token>', or HTTP Basic (user {name}, password the token)",
    ]


def revoke_partner(settings: Settings, name: str, now: float) -> list[str]:
    """``partners revoke``: stop a partner's token from working, at once (PartnerError when there is none)."""
    store = PartnerStore(settings.state_dir)
    try:
        store.revoke(name, now)
    finally:
        store.close()
    return [f"partner {name} revoked"]


def list_partners(settings: Settings, _name: str = "", _now: float = 0.0) -> list[str]:
    """``partners list``: each partner's name, when it was made, its last fetch and how many (never its token)."""
    store = PartnerStore(settings.state_dir)
    try:
        partners = store.partners()
    finally:
        store.close()
    if not partners:
        return ["no partners yet: syndicator partners add NAME"]
    rows = [("name", "created", "last fetch", "fetches", "token")]
    for p in partners:
        status = "revoked " + _when(p.revoked) if p.revoked is not None else "working"
        rows.append((p.name, _when(p.created), _when(p.last_fetch), str(p.fetches), status))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def _when(moment: float | None) -> str:
    if moment is None:
        return "never"
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M UTC")
