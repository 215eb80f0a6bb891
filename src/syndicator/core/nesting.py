"""HTML nested past a bound, flattened before it is sanitized: the sanitizer's time grows with nesting squared.

html5ever (inside nh3) looks through the stack of open elements at each tag,
so 40,000 nested ``<div>`` take half a minute. Past ``MAX_NESTING`` open
elements, further start tags (and their end tags) are left out and their text
kept, in one pass; HTML nested less deeply is returned as it is. The result is
still only the sanitizer's input: whatever it holds is cleaned after. No I/O.
"""

from __future__ import annotations

import re

MAX_NESTING = 256  # open elements kept; no post's markup comes near it
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
)
_RAW_TEXT = frozenset({"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript"})
# A comment, or a start or end tag: its name, then its attributes (a quoted value may hold '>').
_MARKUP = re.compile(r"""<!--|<(/?)([A-Za-z][A-Za-z0-9-]*)(?:[^>"']|"[^"]*"|'[^']*')*>?""")


def flatten_nesting(html: str, limit: int = MAX_NESTING) -> str:
    """The HTML with no more than ``limit`` elements open at once: deeper tags are left out, their text kept."""
    if html.count("<") - html.count("</") <= limit:  # fewer start tags than the bound: nothing can be too deep
        return html
    return _Flattener(html, limit).run()


class _Flattener:
    """One pass over HTML: the open elements as a parser would keep them (roughly), and the tags left out."""

    def __init__(self, html: str, limit: int) -> None:
        self.html = html
        self.limit = limit
        self.stack: list[str] = []
        self.open: dict[str, int] = {}  # name -> how many are open (on ``stack``)
        self.dropped: dict[str, int] = {}  # name -> start tags left out whose end tags are still to come

    def run(self) -> str:
        html = self.html
        kept: list[str] = []
        done = at = 0
        while match := _MARKUP.search(html, at):
            at = match.end()
            if match.group() == "<!--":  # a comment ends at its '-->' (or runs to the end)
                end = html.find("-->", at)
                at = len(html) if end < 0 else end + 3
                continue
            name = match.group(2).lower()
            keep = self._end(name) if match.group(1) else self._start(name)
            if keep and not match.group(1) and name in _RAW_TEXT:  # its content is text up to its end tag
                end_tag = re.compile(f"</{name}", re.IGNORECASE).search(html, at)
                at = end_tag.start() if end_tag else len(html)
            if not keep:
                kept.append(html[done : match.start()])
                done = match.end()
        return html if done == 0 else "".join(kept) + html[done:]

    def _start(self, name: str) -> bool:
        """Whether a start tag is kept: a void element, or one opened while fewer than ``limit`` are."""
        if name in _VOID:
            return True
        if len(self.stack) >= self.limit:
            self.dropped[name] = self.dropped.get(name, 0) + 1
            return False
        self.stack.append(name)
        self.open[name] = self.open.get(name, 0) + 1
        return True

    def _end(self, name: str) -> bool:
        """Whether an end tag is kept: it closes an open element (and those opened inside it), or no left-out one."""
        if self.open.get(name):
            while self.stack:
                top = self.stack.pop()
                self.open[top] -= 1
                if top == name:
                    break
            return True
        if self.dropped.get(name):
            self.dropped[name] -= 1
            return False
        return True
