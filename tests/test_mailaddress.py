"""Checking an address a reader gives (SPEC "Following by email"): one normal form, bounded, never a local or reserved
domain; its key folds case and depends on the secret; the mailbox it reaches folds subaddresses and Gmail's dots."""

from __future__ import annotations

import pytest

from syndicator.core.mailaddress import MAX_ADDRESS
from syndicator.core.mailaddress import address_key
from syndicator.core.mailaddress import mailbox
from syndicator.core.mailaddress import mailbox_key
from syndicator.core.mailaddress import normal_address

SECRET = b"s" * 32


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("reader@example.org", "reader@example.org"),
        ("  Reader@Example.ORG ", "Reader@example.org"),
        ("a@münchen.de", "a@xn--mnchen-3ya.de"),
        ("", None),
        ("no-at-sign", None),
        ("a@b", None),
        ("a@localhost", None),
        ("a@example.test", None),
        ('"quoted"@example.org', None),
        ("a@[127.0.0.1]", None),
        ("ü@example.org", None),
        ("a\r\nBcc: victim@example.org@example.org", None),
        ("reader@example.org\r\nBcc: victim@example.org", None),
        ("reader@example.org\nX: y", None),
        ("reader@exa\x00mple.org", None),
        ("a" * 65 + "@example.org", None),
        ("a@" + "b" * 250 + ".org", None),
        ("x" * 10_000, None),
    ],
)
def test_addresses_are_checked(text: str, expected: str | None) -> None:
    """An address is validated: too long, a control character (CR/LF), no real domain, quoted parts: refused."""
    assert normal_address(text) == expected


def test_an_address_at_the_limit() -> None:
    """254 characters is the longest address taken."""
    local = "a" * 64
    labels = ".".join(["b" * 60] * 3)
    domain = labels + "." + "c" * (MAX_ADDRESS - len(local) - 1 - len(labels) - 1)
    address = f"{local}@{domain}"
    assert len(address) == MAX_ADDRESS
    assert normal_address(address) == address
    assert normal_address("a" + address) is None
    assert normal_address(f"{local}@{domain}c") is None


def test_address_keys_fold_case_and_depend_on_the_secret() -> None:
    """The key an address is counted by: the same for Reader@ and reader@, another under another secret."""
    assert address_key(SECRET, "Reader@example.org") == address_key(SECRET, "reader@example.org")
    assert address_key(SECRET, "reader@example.org") != address_key(b"t" * 32, "reader@example.org")
    assert "reader" not in address_key(SECRET, "reader@example.org")


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("reader@example.org", "reader@example.org"),
        ("Reader@Example.org", "reader@example.org"),
        ("reader+news@example.org", "reader@example.org"),
        ("reader+a+b@example.org", "reader@example.org"),
        ("reader+@example.org", "reader@example.org"),
        ("+news@example.org", "+news@example.org"),
        ("r.e.a.d.e.r@example.org", "r.e.a.d.e.r@example.org"),
        ("victim@gmail.com", "victim@gmail.com"),
        ("V.ictim@gmail.com", "victim@gmail.com"),
        ("v.i.c.t.i.m+2@gmail.com", "victim@gmail.com"),
        ("Victim+x@GoogleMail.com", "victim@gmail.com"),
        ("vic.tim@googlemail.com", "victim@gmail.com"),
        ("victim@gmail.com.example.org", "victim@gmail.com.example.org"),
        ("vic.tim@mail.gmail.com", "vic.tim@mail.gmail.com"),
    ],
)
def test_the_mailbox_an_address_reaches(address: str, expected: str) -> None:
    """The mailbox the limits count by: case folded, +tag cut, at Gmail (googlemail.com too) no dots in the name."""
    assert mailbox(address) == expected


def test_mailbox_keys_are_one_per_mailbox() -> None:
    """Every address that reaches a mailbox has its key; addresses that reach others do not."""
    keys = {mailbox_key(SECRET, a) for a in ("victim+1@gmail.com", "v.ictim@googlemail.com", "VICTIM@gmail.com")}
    assert keys == {mailbox_key(SECRET, "victim@gmail.com")}
    assert mailbox_key(SECRET, "v.ictim@example.org") != mailbox_key(SECRET, "victim@example.org")
    assert mailbox_key(SECRET, "reader@example.org") == address_key(SECRET, "reader@example.org")
