"""The mails: a post's (its excerpt, its images, "Continue reading"), a digest's and a confirmation's.

Each is a MIME message with a text and an HTML part, ``From`` = email_from,
``Date``, ``Message-ID`` and RFC 8058's ``List-Unsubscribe`` and
``List-Unsubscribe-Post``. The HTML holds the post's sanitized excerpt as the
pages show it; every other text is escaped, and header values are cut to one
line (a title with a line break cannot start a header). Pure: takes the
settings, the posts and the envelope. No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from html import escape

from syndicator.config import Settings
from syndicator.core.mailplan import DAILY
from syndicator.core.mailplan import WEEKLY
from syndicator.core.mailtext import html_text
from syndicator.core.pagerender import long_date
from syndicator.core.urls import post_url
from syndicator.model import Post

SUBJECT_CHARACTERS = 200
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
_STYLE = (
    "body{margin:0;padding:0;background:#f4f4f2}"
    ".mail{max-width:640px;margin:0 auto;padding:24px;background:#fff;color:#222;"
    "font:17px/1.55 Georgia,'Times New Roman',serif}"
    ".mail img{max-width:100%;height:auto}.meta,.foot{color:#666;font-size:14px}"
    ".more a{font-weight:bold}h1,h2{line-height:1.25}h1 a,h2 a{color:#222;text-decoration:none}"
)
# Headers fold at RFC 5322's hard limit, not its 78-character advice: folding can cut no URL, and a header too long
# to fold would be sent as RFC 2047 encoded words, which no mail client reads as List-Unsubscribe's <URL>. The parts
# are encoded in lines of 76 characters at most, as RFC 2045 has quoted-printable (Python's default makes 78).
HEADER_POLICY = policy.SMTP.clone(max_line_length=998)
PART_POLICY = policy.SMTP.clone(max_line_length=76)
PACE_WORDS = {DAILY: "a daily digest", WEEKLY: "a weekly digest (on Mondays)"}


@dataclass(frozen=True, slots=True)
class Envelope:
    """What makes one mail of a subscription: to whom, its Message-ID and date, the feed, its unsubscribe link."""

    to: str
    message_id: str
    date: datetime
    feed_name: str
    feed_url: str  # the feed's page on the site (the home page, an archive page)
    unsubscribe_url: str


def one_line(text: str, limit: int = SUBJECT_CHARACTERS) -> str:
    """Text for a header: line breaks and control characters become spaces, cut to ``limit`` characters."""
    line = " ".join(_LINE_BREAKS.sub(" ", text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def post_mail(settings: Settings, post: Post, envelope: Envelope) -> EmailMessage:
    """One new post: subject = its title; its excerpt, its featured image, "Continue reading"."""
    text = "\n\n".join([_post_text(settings, post), _text_footer(envelope)])
    html = _document(settings, one_line(post.title), _post_html(settings, post, 1), envelope)
    return _message(settings, envelope, post.title, text, html)


def digest_mail(
    settings: Settings, posts: Sequence[Post], pace: str, envelope: Envelope, more: int = 0
) -> EmailMessage:
    """A digest: the posts published since the last one, newest first (``more``: those left out of it)."""
    count = len(posts) + more
    subject = f"{envelope.feed_name}: {count} new {'post' if count == 1 else 'posts'}"
    when = "this week" if pace == WEEKLY else "today"
    texts = [_post_text(settings, post) for post in posts]
    sections = [_post_html(settings, post, 2) for post in posts]
    if more:
        texts.append(f"… and {more} more on {envelope.feed_url}")
        sections.append(f'<p class="more">… and {more} more on <a href="{_a(envelope.feed_url)}">the site</a>.</p>')
    intro = f"New on {envelope.feed_name} {when}:"
    text = "\n\n".join([intro, *texts, _text_footer(envelope)])
    html = _document(settings, subject, f"<p>{escape(intro)}</p>\n" + "\n<hr>\n".join(sections), envelope)
    return _message(settings, envelope, subject, text, html)


def confirm_mail(settings: Settings, pace: str, confirm_url: str, envelope: Envelope) -> EmailMessage:
    """The double opt-in: the confirmation link (valid 48 hours); nothing else is sent until it is followed."""
    what = PACE_WORDS.get(pace, "each new post")
    subject = f"Confirm your subscription to {envelope.feed_name}"
    asked = f"Someone, probably you, asked to receive {what} of {envelope.feed_name} at this address."
    ignore = "If it was not you, ignore this mail: nothing more will be sent."
    text = f"{asked}\n\nConfirm within 48 hours by following this link:\n{confirm_url}\n\n{ignore}"
    html = (
        f"<p>{escape(asked)}</p>\n"
        f'<p class="more"><a href="{_a(confirm_url)}">Confirm the subscription</a> (within 48 hours)</p>\n'
        f"<p>{escape(ignore)}</p>"
    )
    return _message(settings, envelope, subject, text, _document(settings, subject, html, envelope, footer=False))


def _message(settings: Settings, envelope: Envelope, subject: str, text: str, html: str) -> EmailMessage:
    message = EmailMessage(policy=PART_POLICY)
    message["From"] = settings.email_from
    message["To"] = envelope.to
    message["Subject"] = one_line(subject)
    message["Date"] = format_datetime(envelope.date)
    message["Message-ID"] = envelope.message_id
    message["List-Unsubscribe"] = f"<{envelope.unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text + "\n", cte="quoted-printable")  # 7-bit clean: any relay takes it, 8BITMIME or not
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    message.policy = HEADER_POLICY  # for the headers, when it is written out
    return message


def _post_text(settings: Settings, post: Post) -> str:
    byline = f"{long_date(post.date, settings)} · by {one_line(post.author.name)}"
    more = f"Continue reading: {post_url(settings, post)}"
    return f"{one_line(post.title)}\n{byline}\n\n{html_text(post.summary_html)}\n\n{more}"


def _post_html(settings: Settings, post: Post, level: int) -> str:
    url = _a(post_url(settings, post))
    parts = [
        f'<h{level}><a href="{url}">{escape(one_line(post.title))}</a></h{level}>',
        f'<p class="meta">{long_date(post.date, settings)} · by {escape(post.author.name)}</p>',
    ]
    image = post.image
    if image is not None and image.url not in post.summary_html:
        size = f' width="{image.width}" height="{image.height}"' if image.width else ""
        parts.append(f'<p><a href="{url}"><img src="{_a(image.url)}" alt="{_a(image.alt)}"{size}></a></p>')
    parts.append(f'<div class="summary">{post.summary_html}</div>')
    parts.append(f'<p class="more"><a href="{url}">Continue reading →</a></p>')
    return "\n".join(parts)


def _text_footer(envelope: Envelope) -> str:
    return (
        f"--\nYou receive this because you follow {envelope.feed_name} by email ({envelope.feed_url}).\n"
        f"Unsubscribe: {envelope.unsubscribe_url}"
    )


def _document(settings: Settings, title: str, body: str, envelope: Envelope, *, footer: bool = True) -> str:
    home = _a(f"{settings.base_url}/")
    foot = (
        f'<p class="foot">You receive this because you follow <a href="{_a(envelope.feed_url)}">'
        f"{escape(envelope.feed_name)}</a> by email. "
        f'<a href="{_a(envelope.unsubscribe_url)}">Unsubscribe</a></p>'
        if footer
        else f'<p class="foot"><a href="{_a(envelope.unsubscribe_url)}">Unsubscribe</a></p>'
    )
    return (
        f'<!doctype html>\n<html lang="{_a(settings.language)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f'<div class="mail">\n<p class="meta"><a href="{home}">{escape(settings.site_title)}</a></p>\n'
        f"{body}\n<hr>\n{foot}\n</div>\n</body>\n</html>\n"
    )


def _a(value: str) -> str:
    """An attribute value, escaped (quotes too)."""
    return escape(value, quote=True)
