"""HTML laid out as CommonMark raw-HTML blocks, so the Markdown renderer passes it through exactly as it is.

A raw-HTML block that starts with a block-level tag runs to the next blank
line; so no blank line may stand inside an element (those in ``<pre>`` become
empty comment lines, which show as the same empty line), and each top-level
element starts after a blank line, where the file is easiest to read and edit.

No I/O.
"""

from __future__ import annotations

import html
import re

_PRE_START = re.compile(r"<pre\b", re.I)
_PRE_END = re.compile(r"</pre>", re.I)
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")
# The start of a line that opens a CommonMark raw-HTML block of its own (kinds 1, 2 and 6 of the spec).
_OPENS_BLOCK = re.compile(
    r"<(?:!--|(?:pre|script|style|textarea)(?=[\s>]|$)|/?(?:address|article|aside|blockquote|body|caption|center"
    r"|col|colgroup|dd|details|dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|h[1-6]|header|hr|legend"
    r"|li|main|menu|nav|ol|optgroup|option|p|section|summary|table|tbody|td|tfoot|th|thead|tr|ul)(?=[\s/>]|$))",
    re.I,
)
# A comment or an element whose text is kept as written, a start or end tag, or a newline (each, unclosed, runs to
# the end: one pass over the text, however many "<" it has).
_TOKEN = re.compile(
    r"<!--.*?(?:-->|$)|<(pre|script|style|textarea)\b.*?(?:</\1\s*>|$)|<(/?)([a-zA-Z][\w:-]*)\b([^>]*)>?|\n",
    re.I | re.S,
)
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"<[^>]*>")
_VISIBLE = re.compile(r"<(?:img|audio|video|iframe|object|embed|svg|canvas|picture|hr|input|math)\b", re.I)


def split_pre(text: str) -> list[str]:
    """The text cut around its <pre> elements: outside, element, outside... (an unclosed <pre> is no element)."""
    pieces, offset = [], 0
    while (start := _PRE_START.search(text, offset)) and (end := _PRE_END.search(text, start.end())):
        pieces += [text[offset : start.start()], text[start.start() : end.end()]]
        offset = end.end()
    pieces.append(text[offset:])
    return pieces


def tight(text: str) -> str:
    """No blank line anywhere in the HTML: those in <pre> become empty comment lines (the same empty line)."""
    return "".join(
        re.sub(r"(?m)^[ \t]*$", "<!-- -->", p) if i % 2 else _BLANK_LINES.sub("\n", p)
        for i, p in enumerate(split_pre(text))
    )


def html_blocks(text: str) -> str:
    """The HTML with no blank line inside an element, and one before each top-level element that opens a line."""
    text = tight(text.strip())
    out: list[str] = []
    depth = offset = 0
    for token in _TOKEN.finditer(text):
        out.append(text[offset : token.start()])
        offset = token.end()
        if token.group(0) == "\n":
            opens = depth == 0 and _OPENS_BLOCK.match(text, token.end()) is not None
            out.append("\n\n" if opens else "\n")
        elif token.group(3) is not None and token.group(3).lower() not in _VOID and not token.group(4).endswith("/"):
            depth = max(0, depth - 1) if token.group(2) else depth + 1
        if token.group(0) != "\n":
            out.append(token.group(0))
    out.append(text[offset:])
    return "".join(out)


def shows_nothing(fragment: str) -> bool:
    """Whether HTML would show nothing at all: no text, no image, media or rule."""
    fragment = _COMMENT.sub("", fragment)
    if _VISIBLE.search(fragment):
        return False
    return not html.unescape(_TAG.sub("", fragment)).replace("\xa0", " ").strip()
