"""A WordPress post's content as the HTML WordPress shows: blocks or classic paragraphs, embeds, media, shortcodes.

Block-editor content (it contains ``<!-- wp:``, WordPress's ``has_blocks()``) is
rendered block by block (``blocks``) and gets no paragraph rules; classic content
gets WordPress's paragraphs and shortcodes (``shortcodes``, ``autop``). Embeds
become links naming their provider (the sanitizer drops iframes); audio, video
and file blocks stay in the content and are also listed as enclosures. Every
top-level element comes out as one raw-HTML block for CommonMark (``rawhtml``),
so the Markdown renderer passes it through as it is, and the ``<!--more-->``
marker stands on its own between them.

Pure str -> values. No I/O.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from syndicator.importers.blocks import MORE
from syndicator.importers.blocks import render_blocks
from syndicator.importers.context import Enclosure
from syndicator.importers.context import Findings
from syndicator.importers.context import Library
from syndicator.importers.rawhtml import html_blocks
from syndicator.importers.shortcodes import classic

_MORE = re.compile(r"<!--\s*more\b.*?-->", re.I | re.S)
_TITLE_TAG = re.compile(r"</?[A-Za-z][^>]*>")


@dataclass(frozen=True, slots=True)
class Content:
    """A post's content converted, and what was done to it."""

    html: str
    enclosures: tuple[Enclosure, ...] = ()
    embeds: int = 0
    lost: tuple[str, ...] = ()  # what had nothing to show without WordPress ("core/latest-posts", "[playlist]")
    blocks: bool = False  # written with the block editor
    galleries: int = 0  # galleries shown (gallery blocks, [gallery] rebuilt from the export's attachments)


def has_blocks(content: str) -> bool:
    """Whether WordPress treats the content as block-editor content (``has_blocks()``)."""
    return "<!-- wp:" in content


def convert(content: str, library: Library | None = None, *, post_id: int = 0, footnotes: str = "") -> Content:
    """Convert a post's content against the export's attachments and reusable blocks.

    ``post_id`` is the post's WordPress id (a ``[gallery]`` without ids shows the
    images uploaded to it); ``footnotes`` its ``footnotes`` meta.
    """
    found = Findings(library or Library(), post_id, footnotes)
    content = content.replace("\r\n", "\n")
    body = render_blocks(content, found) if has_blocks(content) else _classic_parts(content, found)
    return Content(body, tuple(found.enclosures), found.embeds, tuple(found.lost), has_blocks(content), found.galleries)


def _classic_parts(content: str, found: Findings) -> str:
    """Classic content: the parts before and after ``<!--more-->`` each get paragraphs; the marker stays between."""
    parts = [html_blocks(classic(part, found)) for part in _MORE.split(content, maxsplit=1)]
    return f"\n\n{MORE}\n\n".join(part for part in parts if part) if len(parts) > 1 else parts[0]


def plain_title(title: str) -> str:
    """A title as plain text: tags dropped, entities decoded once (``Title <em>With</em>`` -> ``Title With``)."""
    return " ".join(html.unescape(_TITLE_TAG.sub("", title)).split())
