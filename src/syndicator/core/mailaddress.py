"""A reader's email address as a subscription takes it: checked, normalized, and the key it is counted by.

email-validator's syntax rules (no look-up of the domain). No I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from email_validator import EmailNotValidError
from email_validator import validate_email

MAX_ADDRESS = 254  # characters of a deliverable address (RFC 5321's path less its brackets)
MAX_LOCAL = 64  # characters before the @ (RFC 5321)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def normal_address(text: str) -> str | None:
    """The address as mail is sent to it (the domain in lower case and ASCII), or None when it is no address.

    Refused: more than MAX_ADDRESS characters (MAX_LOCAL before the @), any control character (a line
    break would start a header), a quoted or non-ASCII part before the @, an IP
    literal or a domain with no dot or of a reserved name (``.test``, ``.local``).
    """
    text = text.strip()
    if not text or len(text) > MAX_ADDRESS or _CONTROL.search(text):
        return None
    try:
        checked = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return None
    address = checked.ascii_email or checked.normalized
    local = address.rpartition("@")[0]
    return address if len(address) <= MAX_ADDRESS and len(local) <= MAX_LOCAL else None


def address_key(secret: bytes, address: str) -> str:
    """What an address is counted and found by where it is not stored: a keyed hash of it, case folded."""
    return hmac.new(secret, address.lower().encode("utf-8"), hashlib.sha256).hexdigest()[:32]
