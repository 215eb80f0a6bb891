"""The mails of following by email (SPEC "Following by email"): a post mail's headers and both parts, digests,
confirmations, List-Unsubscribe, seven-bit clean; no header a title can add."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage

from support.factories import NOW
from support.factories import make_post
from syndicator.config import Settings
from syndicator.core.mailmessage import Envelope
from syndicator.core.mailmessage import confirm_mail
from syndicator.core.mailmessage import digest_mail
from syndicator.core.mailmessage import post_mail
from syndicator.core.mailplan import DAILY
from syndicator.core.mailplan import WEEKLY
from syndicator.core.mailtoken import unsubscribe_token
from syndicator.model import Image

SECRET = b"s" * 32
SETTINGS = Settings(site_title="Test Site", site_url="https://example.org", email_from="News <news@example.org>")


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
