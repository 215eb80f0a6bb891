"""The signed tokens of the mail links: a confirmation (valid 48 hours) and an unsubscription (valid for good).

A token is ``<kind>.<data>.<expires>.<signature>``: the data in URL-safe
base64, the Unix second it expires at (0: never), and an HMAC-SHA256 of the
three under the site's secret. Forged, altered, expired or of another kind, a
token reads as None. Pure: takes the secret and ``now``. No I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from datetime import datetime
from datetime import timedelta

CONFIRM = "c"
UNSUBSCRIBE = "u"
CONFIRM_VALID = timedelta(hours=48)
MAX_TOKEN = 512  # characters; a longer one is no token of ours
_SHAPE = re.compile(r"([a-z])\.([A-Za-z0-9_-]{1,400})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _signature(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest())


def make_token(secret: bytes, kind: str, data: str, expires: datetime | None = None) -> str:
    """A token of ``kind`` carrying ``data``, valid until ``expires`` (None: for good)."""
    stamp = int(expires.timestamp()) if expires is not None else 0
    payload = f"{kind}.{_b64(data.encode('utf-8'))}.{stamp}"
    return f"{payload}.{_signature(secret, payload)}"


def read_token(secret: bytes, token: str, kind: str, now: datetime) -> str | None:
    """The data of a valid token of ``kind`` at ``now``, or None (forged, altered, expired, another kind)."""
    match = _SHAPE.fullmatch(token) if len(token) <= MAX_TOKEN else None
    if match is None or match.group(1) != kind:
        return None
    payload = token.rpartition(".")[0]
    if not hmac.compare_digest(match.group(4), _signature(secret, payload)):
        return None
    expires = int(match.group(3))
    if expires and now.timestamp() >= expires:
        return None
    data = match.group(2)
    try:
        return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def confirm_token(secret: bytes, key: str, asked: datetime) -> str:
    """The token of a confirmation link: a pending subscription's key, valid CONFIRM_VALID from ``asked``."""
    return make_token(secret, CONFIRM, key, asked + CONFIRM_VALID)


def unsubscribe_token(secret: bytes, address_key: str, feed: str) -> str:
    """The token of an unsubscribe link: which address (by its key, never itself) leaves which feed."""
    return make_token(secret, UNSUBSCRIBE, f"{address_key} {feed}")


def read_unsubscribe(secret: bytes, token: str, now: datetime) -> tuple[str, str] | None:
    """(address key, feed) of a valid unsubscribe token, or None."""
    data = read_token(secret, token, UNSUBSCRIBE, now)
    if data is None or " " not in data:
        return None
    key, _, feed = data.partition(" ")
    return key, feed
