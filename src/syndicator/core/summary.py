"""A post's summary, the whole rule: where it comes from, how it is cut, and each form it is shown in.

The front matter's ``summary`` overrides; otherwise the body before its
excerpt marker is the summary (the marker is in neither part); otherwise the
body's first paragraph, cut at ``summary_words`` words. Feeds show it as HTML
(without element ids: it sits beside other posts' summaries), the fediverse
with a link to the whole post, JSON Feed and the partner-platform checks as
plain text, post pages as plain text cut near DESCRIPTION_CHARACTERS
(og:description and the JSON-LD description).
No I/O.
"""

from __future__ import annotations

import html
import re
from typing import Protocol

from syndicator.core.fences import outside_fences
from syndicator.core.markup import first_paragraph
from syndicator.core.markup import plain_text
from syndicator.core.markup import truncate_html_words
from syndicator.core.markup import without_ids

DESCRIPTION_CHARACTERS = 300  # og:description and the JSON-LD description: the summary's text, cut here
_CONTINUE = re.compile(r"continue reading\s*(?:→|»|\.\.\.|…)?", re.IGNORECASE)
_MORE = re.compile(r"<!--\s*more\s*-->", re.IGNORECASE)


class Render(Protocol):
    """Markdown to sanitized HTML, the post's way (its links, its files); ``keep_ids`` False drops element ids."""

    def __call__(self, markdown: str, *, keep_ids: bool) -> str: ...


def sources(body: str, override: str) -> tuple[str, str | None]:
    """A body's content and its summary as Markdown (None: the summary is cut from the content's HTML).

    ``override``: the front matter's ``summary`` ("" when it gives none).
    """
    parts = split_excerpt(body)
    content = body if parts is None else parts[0] + parts[1]
    return content, override or (parts[0] if parts is not None else None)


def split_excerpt(body: str) -> tuple[str, str] | None:
    """Split a Markdown body at its excerpt marker into (before, after), without the marker.

    The marker is the first line that, trimmed, reads "Continue reading" (any
    case, optionally followed by an arrow or an ellipsis), or a ``<!--more-->``
    comment anywhere outside a fenced code block. None when there is none.
    """
    for offset, line in outside_fences(body):
        if _CONTINUE.fullmatch(line.strip()):
            return body[:offset], "\n" + body[offset + len(line) :]
        more = _MORE.search(line)
        if more:
            start, end = offset + more.start(), offset + more.end()
            return body[:start], body[end:]
    return None


def summary_html(content_html: str, summary_md: str | None, words: int, render: Render) -> str:
    """The summary as feeds show it: its Markdown rendered, or the content's first paragraph cut at ``words``."""
    if summary_md is not None:
        return render(summary_md, keep_ids=False)
    cut, _ = truncate_html_words(without_ids(first_paragraph(content_html)), words)
    return f"<p>{cut}</p>" if cut else ""


def timeline_html(summary: str, url: str, title: str) -> str:
    """The summary with a link to the whole post (at ``url``): what a fediverse timeline shows."""
    return f'{summary}<p><a href="{html.escape(url)}">Continue reading “{html.escape(title)}” →</a></p>'


def summary_text(summary: str) -> str:
    """The summary's plain text (JSON Feed's ``summary``), from its HTML."""
    return plain_text(summary)


def description(summary: str) -> str:
    """The summary's plain text cut at a word near DESCRIPTION_CHARACTERS (og:description), from its HTML."""
    text = plain_text(summary)
    if len(text) <= DESCRIPTION_CHARACTERS:
        return text
    return text[:DESCRIPTION_CHARACTERS].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"
