"""The signed links of following by email (SPEC "Following by email"): a confirmation valid 48 hours, an unsubscribe
link, each of its own kind, none forged or altered."""

from __future__ import annotations

from datetime import timedelta

from support.factories import NOW
from syndicator.core.mailtoken import CONFIRM
from syndicator.core.mailtoken import UNSUBSCRIBE
from syndicator.core.mailtoken import confirm_token
from syndicator.core.mailtoken import make_token
from syndicator.core.mailtoken import read_token
from syndicator.core.mailtoken import read_unsubscribe
from syndicator.core.mailtoken import unsubscribe_token

SECRET = b"s" * 32


def test_a_confirmation_token_is_valid_48_hours() -> None:
    """A confirmation link is signed and valid 48 h from when it was asked for."""
    token = confirm_token(SECRET, "pending-key", NOW)
    assert read_token(SECRET, token, CONFIRM, NOW) == "pending-key"
    assert read_token(SECRET, token, CONFIRM, NOW + timedelta(hours=47, minutes=59)) == "pending-key"
    assert read_token(SECRET, token, CONFIRM, NOW + timedelta(hours=48)) is None
    assert "pending-key" not in token


def forgeries(token: str) -> list[str]:
    """Ways to tamper with a token: each part altered, cut, padded, swapped."""
    kind, data, expires, signature = token.split(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    return [
        "",
        "x",
        token + "x",
        token[:-1],
        f"{kind}.{data}.{expires}.{flipped}",
        f"{kind}.{data}.{int(expires) + 3600}.{signature}",
        f"{kind}.{data}A.{expires}.{signature}",
        f"{kind}.{data}.{expires}",
        f"{kind}.{data}.{expires}.{signature}.{signature}",
        token.replace(".", "/"),
        token + "\r\nX: y",
        "c" * 600,
    ]


def test_forged_and_altered_tokens_are_refused() -> None:
    """A token changed anywhere, or signed with another secret, reads as nothing."""
    token = confirm_token(SECRET, "pending-key", NOW)
    for forged in forgeries(token):
        assert read_token(SECRET, forged, CONFIRM, NOW) is None, forged
    assert read_token(b"t" * 32, token, CONFIRM, NOW) is None


def test_a_token_of_one_kind_is_no_token_of_another() -> None:
    """A confirmation token does not unsubscribe, an unsubscribe token does not confirm."""
    confirm = confirm_token(SECRET, "k f", NOW)
    leave = unsubscribe_token(SECRET, "k", "category/alpha")
    assert read_unsubscribe(SECRET, confirm, NOW) is None
    assert read_token(SECRET, leave, CONFIRM, NOW) is None
    assert read_unsubscribe(SECRET, leave, NOW + timedelta(days=3650)) == ("k", "category/alpha")
    assert read_token(SECRET, make_token(SECRET, UNSUBSCRIBE, "no-space"), UNSUBSCRIBE, NOW) == "no-space"
    assert read_unsubscribe(SECRET, make_token(SECRET, UNSUBSCRIBE, "no-space"), NOW) is None
