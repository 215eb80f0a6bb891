"""The pure parts of following by email (SPEC "Following by email"): addresses, tokens, who gets what, the mail."""

from __future__ import annotations

import email
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email import policy
from email.message import EmailMessage

import pytest

from factories import NOW
from factories import make_catalog
from factories import make_post
from syndicator.config import Settings
from syndicator.core.mailaddress import MAX_ADDRESS
from syndicator.core.mailaddress import address_key
from syndicator.core.mailaddress import normal_address
from syndicator.core.mailmessage import Envelope
from syndicator.core.mailmessage import confirm_mail
from syndicator.core.mailmessage import digest_mail
from syndicator.core.mailmessage import post_mail
from syndicator.core.mailplan import DAILY
from syndicator.core.mailplan import INSTANT
from syndicator.core.mailplan import WEEKLY
from syndicator.core.mailplan import Follower
from syndicator.core.mailplan import digest_posts
from syndicator.core.mailplan import digest_slot
from syndicator.core.mailplan import instant_mails
from syndicator.core.mailplan import known_feed
from syndicator.core.mailplan import new_posts
from syndicator.core.mailtext import html_text
from syndicator.core.mailtoken import CONFIRM
from syndicator.core.mailtoken import UNSUBSCRIBE
from syndicator.core.mailtoken import confirm_token
from syndicator.core.mailtoken import make_token
from syndicator.core.mailtoken import read_token
from syndicator.core.mailtoken import read_unsubscribe
from syndicator.core.mailtoken import unsubscribe_token
from syndicator.model import Image

SECRET = b"s" * 32
SETTINGS = Settings(site_title="Test Site", site_url="https://example.org", email_from="News <news@example.org>")


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


def test_only_published_feeds_can_be_followed() -> None:
    """``all`` and a published category, tag or author; anything else is no feed."""
    catalog = make_catalog(make_post("one", categories=("Alpha",)))
    assert known_feed("all", catalog) == "all"
    assert known_feed("category/alpha", catalog) == "category/alpha"
    assert known_feed("author/writer", catalog) == "author/writer"
    for value in ("", "category/beta", "category/", "posts/one", "category/alpha\r\nX: y", "../all", "ALL"):
        assert known_feed(value, catalog) is None


def test_only_posts_never_seen_are_new() -> None:
    """An edited post keeps its id: it is not new; a post with an id never seen is."""
    old = make_post("old")
    edited = make_post("old", title="Edited title", summary_html="<p>Changed.</p>")
    fresh = make_post("fresh")
    assert new_posts([edited, fresh], {old.id}) == [fresh]


def follower(name: str, feed: str, pace: str = INSTANT) -> Follower:
    return Follower(f"{name}@example.org", f"key-{name}", feed, pace)


def test_each_new_post_goes_to_its_feeds_instant_followers_once() -> None:
    """A post goes to instant followers of any of its feeds, once per address, never twice, never to digests."""
    alpha = make_post("a-post", categories=("Alpha",))
    beta = make_post("b-post", categories=("Beta",))
    ann_alpha, ann_all = follower("ann", "category/alpha"), follower("ann", "all")
    bob_beta, cat_daily = follower("bob", "category/beta"), follower("cat", "all", DAILY)
    mails = instant_mails([alpha, beta], [ann_alpha, ann_all, bob_beta, cat_daily], set())
    assert mails == [(ann_all, alpha), (ann_all, beta), (bob_beta, beta)]
    again = instant_mails([alpha, beta], [ann_alpha, bob_beta], {("key-ann", beta.id), ("key-bob", beta.id)})
    assert again == [(ann_alpha, alpha)]


@pytest.mark.parametrize(
    ("now", "pace", "slot"),
    [
        ("2026-01-07T08:00:00+00:00", DAILY, "2026-01-07T08:00:00+00:00"),
        ("2026-01-07T07:59:59+00:00", DAILY, "2026-01-06T08:00:00+00:00"),
        ("2026-01-07T23:00:00+00:00", DAILY, "2026-01-07T08:00:00+00:00"),
        ("2026-01-05T08:00:00+00:00", WEEKLY, "2026-01-05T08:00:00+00:00"),  # a Monday
        ("2026-01-05T07:00:00+00:00", WEEKLY, "2025-12-29T08:00:00+00:00"),
        ("2026-01-11T22:00:00+00:00", WEEKLY, "2026-01-05T08:00:00+00:00"),  # Sunday
    ],
)
def test_digests_are_due_at_digest_hour_weekly_on_mondays(now: str, pace: str, slot: str) -> None:
    """Daily at digest_hour; weekly at that hour on the latest Monday."""
    settings = Settings(digest_hour=8)
    assert digest_slot(datetime.fromisoformat(now), settings, pace) == datetime.fromisoformat(slot)


def test_digest_hour_is_in_the_sites_time_zone() -> None:
    """digest_hour 8 in Europe/Paris is 07:00 UTC in winter and 06:00 UTC in summer."""
    settings = Settings(digest_hour=8, timezone="Europe/Paris")
    winter = digest_slot(datetime(2026, 1, 7, 12, tzinfo=UTC), settings, DAILY)
    summer = digest_slot(datetime(2026, 7, 7, 12, tzinfo=UTC), settings, DAILY)
    assert (winter.hour, summer.hour) == (7, 6)
    monday = digest_slot(datetime(2026, 1, 5, 6, 30, tzinfo=UTC), settings, WEEKLY)  # 07:30 in Paris: before 08:00
    assert monday == datetime(2025, 12, 29, 7, tzinfo=UTC)


def test_a_digest_lists_the_feeds_posts_seen_since_the_last_one() -> None:
    """Posts of the feed first seen after the last digest, never mailed to the address; none: an empty list.

    A post dated long before it was first seen (a backlog) is not news: no digest lists it.
    """
    recent = NOW - timedelta(hours=3)
    one = make_post("one", categories=("Alpha",), date=recent)
    two = make_post("two", categories=("Alpha",), date=recent)
    other = make_post("other", categories=("Beta",), date=recent)
    old = make_post("old", categories=("Alpha",), date=recent - timedelta(days=1))
    backlog = make_post("backlog", categories=("Alpha",), date=NOW - timedelta(days=365))
    since = NOW - timedelta(days=1)
    seen = {one.id: NOW, two.id: NOW, other.id: NOW, old.id: since - timedelta(hours=1), backlog.id: NOW}
    posts = [one, two, other, old, backlog]
    assert digest_posts(posts, seen, "category/alpha", since, set()) == [one, two]
    assert digest_posts(posts, seen, "category/alpha", since, {two.id}) == [one]
    assert digest_posts(posts, seen, "category/alpha", NOW + timedelta(seconds=1), set()) == []


def envelope() -> Envelope:
    return Envelope(
        to="reader@example.org",
        message_id="<abc.post@example.org>",
        date=NOW,
        feed_name="Test Site — Alpha",
        feed_url="https://example.org/category/alpha/",
        unsubscribe_url="https://example.org/unsubscribe/u.token",
    )


def reparsed(message: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(message.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_a_post_mail_has_its_headers_and_both_parts() -> None:
    """Subject = title; From = email_from; Date, Message-ID, List-Unsubscribe (RFC 8058); text and HTML parts."""
    image = Image("https://example.org/feeds/media/cat.jpg", "image/jpeg", 640, 480, alt="A cat")
    post = make_post(
        "one",
        title="Hello “world”",
        categories=("Alpha",),
        image=image,
        summary_html='<p>The <em>excerpt</em> with <a href="https://example.org/x">a link</a>.</p>',
    )
    message = reparsed(post_mail(SETTINGS, post, envelope()))
    assert message["Subject"] == "Hello “world”"
    assert message["From"] == "News <news@example.org>"
    assert message["To"] == "reader@example.org"
    assert message["Message-ID"] == "<abc.post@example.org>"
    assert message["Date"].datetime == NOW
    assert message["List-Unsubscribe"] == "<https://example.org/unsubscribe/u.token>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "The excerpt with a link <https://example.org/x>." in text
    assert "Continue reading: https://example.org/posts/one/" in text
    assert "https://example.org/unsubscribe/u.token" in text
    assert "<em>excerpt</em>" in html and 'src="https://example.org/feeds/media/cat.jpg"' in html
    assert 'href="https://example.org/posts/one/">Continue reading' in html
    assert 'href="https://example.org/unsubscribe/u.token"' in html


def test_a_title_with_line_breaks_cannot_add_a_header() -> None:
    """CR/LF in a title (or an author's name) is a space in the subject: no header can be injected."""
    post = make_post("one", title="Hi\r\nBcc: victim@example.org\r\n\r\nbody", summary_html="<p>x</p>")
    raw = post_mail(SETTINGS, post, envelope()).as_bytes()
    message = reparsed(post_mail(SETTINGS, post, envelope()))
    assert message["Subject"] == "Hi Bcc: victim@example.org body"
    assert message["Bcc"] is None
    assert b"\r\nBcc:" not in raw


def test_the_html_part_escapes_what_is_not_the_sanitized_excerpt() -> None:
    """A title or author with markup is text in the HTML part."""
    post = make_post("one", title="<script>alert(1)</script>", summary_html="<p>ok</p>")
    html = reparsed(post_mail(SETTINGS, post, envelope())).get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_digest_lists_its_posts_newest_first() -> None:
    """A digest names how many posts, lists each with its excerpt and link, and carries the same headers."""
    posts = [make_post("two", title="Second"), make_post("one", title="First")]
    message = reparsed(digest_mail(SETTINGS, posts, WEEKLY, envelope(), more=3))
    assert message["Subject"] == "Test Site — Alpha: 5 new posts"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.index("Second") < text.index("First")
    assert "https://example.org/posts/two/" in text and "3 more" in text
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_confirmation_mail_holds_the_link() -> None:
    """The double opt-in mail: the confirmation link in both parts, List-Unsubscribe too."""
    message = reparsed(confirm_mail(SETTINGS, DAILY, "https://example.org/confirm/c.t", envelope()))
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "https://example.org/confirm/c.t" in text and "daily digest" in text
    assert 'href="https://example.org/confirm/c.t"' in message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert message["List-Unsubscribe"] == "<https://example.org/unsubscribe/u.token>"


def test_the_text_part_keeps_paragraphs_lists_and_links() -> None:
    """Paragraphs apart, list items dashed, a link's URL after its text, an image by its alt."""
    html = '<p>One <a href="https://x.org/">two</a>.</p><ul><li>a</li><li>b</li></ul><p><img src="i" alt="Cat"></p>'
    assert html_text(html) == "One two <https://x.org/>.\n\n- a\n- b\n\n[Cat]"


def test_list_unsubscribe_is_sent_as_a_bare_url_however_long() -> None:
    """A real token makes the header longer than 78 characters: it stays <https://…> on one line, not encoded."""
    token = unsubscribe_token(SECRET, "0" * 32, "category/" + "a-long-category-name" * 3)
    url = f"https://blog.example.org/unsubscribe/{token}"
    long = Envelope("reader@example.org", "<id@example.org>", NOW, "Feed", "https://blog.example.org/", url)
    raw = post_mail(SETTINGS, make_post("one"), long).as_bytes()
    assert f"\r\nList-Unsubscribe: <{url}>\r\n".encode() in raw
    assert b"=?utf-8?" not in raw


def test_a_mail_is_seven_bit_clean() -> None:
    """Non-ASCII titles and text travel as RFC 2047 and quoted-printable: a relay without 8BITMIME takes them."""
    post = make_post("one", title="Ünïcode — “quotes”", summary_html="<p>" + "Ещё текст. " * 200 + "</p>")
    raw = post_mail(SETTINGS, post, envelope()).as_bytes()
    body = raw.split(b"\r\n\r\n", 1)[1]
    assert raw.isascii() and max(len(line) for line in body.split(b"\r\n")) <= 76, "RFC 2045's quoted-printable"
    assert reparsed(post_mail(SETTINGS, post, envelope()))["Subject"] == "Ünïcode — “quotes”"
