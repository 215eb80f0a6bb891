"""WordPress's paragraph rules for classic content (what its ``wpautop`` does), written as a pure function.

Text separated by blank lines becomes paragraphs, lone newlines line breaks;
block-level markup (tables and their rows, lists, ``dl``, ``pre``, figures,
headings, quotes, sections...) is never wrapped in a paragraph and gets no
line break inside it. ``<pre>`` is left exactly as written, and newlines
inside tags and comments are not line breaks.

No I/O.
"""

from __future__ import annotations

import re

from syndicator.importers.rawhtml import split_pre

# The elements WordPress treats as blocks: a blank line goes before their start tags and after their end tags.
BLOCK_NAMES = (
    "table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|form|map|area|blockquote"
    "|address|math|style|p|h[1-6]|hr|fieldset|legend|section|article|aside|hgroup|header|footer|nav|figure"
    "|figcaption|details|menu|summary"
)
_NAME_END = r"(?=[\s/>])"
_BLOCK_TAG = rf"</?(?:{BLOCK_NAMES}){_NAME_END}[^>]*>"
_BLOCK_START = re.compile(rf"(<(?:{BLOCK_NAMES}){_NAME_END})", re.I)
_BLOCK_END = re.compile(rf"(</(?:{BLOCK_NAMES})>)", re.I)
_HR = re.compile(r"(<hr\s*/?>)", re.I)
_TWO_BREAKS = re.compile(r"<br\s*/?>\s*<br\s*/?>", re.I)
_TAG_OR_COMMENT = re.compile(r"<!--.*?(?:-->|$)|<!\[CDATA\[.*?(?:\]\]>|$)|<[^>]*>?", re.S)
_KEEP_NEWLINES = re.compile(r"<(script|style|svg)\b.*?</\1>", re.I | re.S)
_SPLIT = re.compile(r"\n\s*\n")
_NEWLINE = "\ue000"  # stands for a newline that is not a line break (inside a tag, comment, script...)
_SET_ASIDE = "\ue001"  # marks a <pre> element set aside while paragraphs are made

# Whitespace that is layout, not text: around options, object parameters, media sources and figure captions.
# A leading \s* starts only where white space starts, or at what follows it: the same matches, in linear time.
_RUN = r"(?:(?<!\s)|(?!\s))"
_MEDIA = ("<source", "<track")
_COLLAPSE = (
    (("<option",), re.compile(rf"{_RUN}\s*(<option\b)", re.I)),
    (("<option",), re.compile(r"(</option>)\s*", re.I)),
    (("</object>",), re.compile(r"(<object\b[^>]*>)\s*", re.I)),
    (("</object>",), re.compile(rf"{_RUN}\s*(</object>)", re.I)),
    (("</object>",), re.compile(rf"{_RUN}\s*(</?(?:param|embed)\b[^>]*>)\s*", re.I)),
    (_MEDIA, re.compile(r"([<\[](?:audio|video)\b[^>\]]*[>\]])\s*", re.I)),
    (_MEDIA, re.compile(rf"{_RUN}\s*([<\[]/(?:audio|video)[>\]])", re.I)),
    (_MEDIA, re.compile(rf"{_RUN}\s*(<(?:source|track)\b[^>]*>)\s*", re.I)),
    (("<figcaption",), re.compile(rf"{_RUN}\s*(<figcaption\b[^>]*>)", re.I)),
    (("<figcaption",), re.compile(r"(</figcaption>)\s*", re.I)),
)

# Paragraphs made around block markup are taken apart again, in this order.
_UNWRAP = (
    (re.compile(r"<p>\s*</p>"), ""),  # nothing inside
    (re.compile(r"<p>([^<]+)</(div|address|form)>", re.I), r"<p>\1</p></\2>"),  # closed by its container
    (re.compile(rf"<p>\s*({_BLOCK_TAG})\s*</p>", re.I), r"\1"),  # a block tag alone
    (re.compile(r"<p>(<li\b.+?)</p>", re.I), r"\1"),  # list items
    (re.compile(r"<p><blockquote\b([^>]*)>", re.I), r"<blockquote\1><p>"),  # the quote goes outside
    (re.compile(r"</blockquote></p>", re.I), "</p></blockquote>"),
    (re.compile(rf"<p>\s*({_BLOCK_TAG})", re.I), r"\1"),  # no paragraph opens right before a block tag
    (re.compile(rf"({_BLOCK_TAG})\s*</p>", re.I), r"\1"),  # nor closes right after one
)
_BREAK_AFTER_BLOCK = re.compile(rf"({_BLOCK_TAG})\s*<br />", re.I)
_BREAK_BEFORE_BLOCK = re.compile(r"<br />(\s*</?(?:p|li|div|dl|dd|dt|th|pre|td|ul|ol)(?=[\s/>])[^>]*>)", re.I)


def autop(text: str) -> str:
    """Classic content with WordPress's paragraphs and line breaks."""
    if not text.strip():
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace(_NEWLINE, "").replace(_SET_ASIDE, "") + "\n"
    kept: list[str] = []
    text = "".join(_set_aside(p, kept) if i % 2 else p for i, p in enumerate(split_pre(text)))
    text = _TWO_BREAKS.sub("\n\n", text)
    text = _HR.sub(r"\1\n\n", _BLOCK_END.sub(r"\1\n\n", _BLOCK_START.sub(r"\n\n\1", text)))
    text = _TAG_OR_COMMENT.sub(lambda m: m.group(0).replace("\n", _NEWLINE), text)
    lowered = text.lower()
    for needles, pattern in _COLLAPSE:
        if any(needle in lowered for needle in needles):
            text = pattern.sub(r"\1", text)
    chunks = [chunk.strip("\n") for chunk in _SPLIT.split(re.sub(r"\n\n+", "\n\n", text))]
    html = "".join(f"<p>{chunk}</p>\n" for chunk in chunks if chunk)
    for pattern, replacement in _UNWRAP:
        html = pattern.sub(replacement, html)
    html = _line_breaks(html)
    for number, element in enumerate(kept):
        html = html.replace(_placeholder(number), element)
    return html.replace(_NEWLINE, "\n")


def _set_aside(element: str, kept: list[str]) -> str:
    kept.append(element)
    return _placeholder(len(kept) - 1)


def _placeholder(number: int) -> str:
    return f"<pre {_SET_ASIDE}{number}{_SET_ASIDE}></pre>"


def _line_breaks(html: str) -> str:
    """Newlines left inside paragraphs become <br />; none stays right after a block tag or before some."""
    html = _KEEP_NEWLINES.sub(lambda m: m.group(0).replace("\n", _NEWLINE), html)
    html = re.sub(r"<br\s*/?>", "<br />", html, flags=re.I)
    html = re.sub(rf"(?<!<br />){_RUN}\s*\n", "<br />\n", html)
    html = _BREAK_AFTER_BLOCK.sub(r"\1", html)
    html = _BREAK_BEFORE_BLOCK.sub(r"\1", html)
    return re.sub(r"\n</p>$", "</p>", html)
