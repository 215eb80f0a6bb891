"""Partners: their tokens, who a request's credentials name, and the ``partners`` commands.

A token is ``synp_`` and 43 URL-safe characters (256 random bits from
``secrets``), shown once by ``partners add``; only its SHA-256 is stored (a
random 256-bit token needs no slow hash). A request names it as
``Authorization: Bearer <token>`` or HTTP Basic (user: the partner's name,
password: the token); the hash of what it presents is compared with
``hmac.compare_digest`` against every partner's (Bearer) or the named one's
(Basic). Wrong, missing, malformed or revoked credentials all get the same
401; a client that keeps presenting wrong ones is made to wait (``Throttle``), but
valid credentials are always answered. The feeds themselves are answered by
``service.http.partners``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from datetime import UTC
from datetime import datetime

from syndicator.config import Settings
from syndicator.core.urls import PARTNER_FEEDS_PREFIX
from syndicator.store.partners import PartnerStore

TOKEN_PREFIX = "synp_"  # noqa: S105 - the start of every token, not a secret
_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]{1,256}")  # RFC 6750 token68: what a Bearer token may look like
_NO_MATCH = hashlib.sha256(b"no partner has this").hexdigest()  # compared against when a Basic name is unknown
MAX_HEADER = 1024  # bytes of an Authorization header looked at


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
