"""A reader's email address as a subscription takes it: checked, normalized, the mailbox it reaches, and its keys.

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
GMAIL = ("gmail.com", "googlemail.com")  # one mailbox under either domain, whatever dots its name has
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
    """What an address is found by where it is not stored (its subscriptions, links, failures): a keyed hash of it,
    case folded."""
    return hmac.new(secret, address.lower().encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def mailbox(address: str) -> str:
    """The mailbox a normal address reaches, as the limits count it: case folded, a ``+tag`` subaddress cut off, and
    at Gmail the dots of the name dropped and googlemail.com taken as gmail.com (``V.ictim+2@googlemail.com`` is
    ``victim@gmail.com``). Mail still goes to the address as given."""
    local, _, domain = address.lower().rpartition("@")
    local = local.partition("+")[0] or local
    if domain in GMAIL:
        local, domain = local.replace(".", ""), GMAIL[0]
    return f"{local}@{domain}"


def mailbox_key(secret: bytes, address: str) -> str:
    """What the confirmation mails a mailbox is sent are counted by: the key of its ``mailbox``."""
    return address_key(secret, mailbox(address))
