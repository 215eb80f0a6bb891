"""The text part of a mail from sanitized HTML: paragraphs apart, list items dashed, links and images spelled out.

No I/O.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = frozenset(
    {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "figure", "figcaption"}
    | {"table", "tr", "hr", "dl", "dt", "dd", "section"}
)
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BREAKS = re.compile(r"\n\s*\n\s*(\n\s*)+")


class _Text(HTMLParser):
    """Collects the text of a fragment; an <a> whose text is not its URL is followed by <URL>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._links: list[tuple[str, int]] = []  # (href, where its text starts)
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "pre":
            self._pre += 1
        if tag in _BLOCKS:
            self.parts.append("\n\n" if tag != "li" else "\n- ")
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "img":
            self.parts.append(f"[{values.get('alt') or 'image'}]")
        elif tag == "a":
            self._links.append((values.get("href") or "", len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._pre = max(0, self._pre - 1)
        if tag in _BLOCKS:
            self.parts.append("\n\n" if tag != "li" else "")
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            text = "".join(self.parts[start:]).strip()
            if href.startswith(("http://", "https://", "mailto:")) and text != href:
                self.parts.append(f" <{href}>")

    def handle_data(self, data: str) -> None:
        self.parts.append(data if self._pre else _SPACES.sub(" ", data.replace("\n", " ")))


def html_text(fragment: str) -> str:
    """The text of a sanitized HTML fragment, as a plain-text mail shows it."""
    parser = _Text()
    parser.feed(fragment)
    parser.close()
    # Collapsed text starts a line with one space at most; more is a <pre>'s indentation.
    lines = [_unindent(line).rstrip() for line in "".join(parser.parts).split("\n")]
    return _BREAKS.sub("\n\n", "\n".join(lines)).strip()


def _unindent(line: str) -> str:
    return line[1:] if line.startswith(" ") and not line.startswith("  ") else line
