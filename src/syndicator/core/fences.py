"""Markdown's fenced code blocks (CommonMark: a run of three or more backticks or tildes opens one, a run of at least
as many of the same closes it): what is written in one is shown as code, never read as markup or markers.

No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def outside_fences(text: str) -> Iterator[tuple[int, str]]:
    """Each line of Markdown outside fenced code blocks (with its line ending), and its offset in ``text``."""
    fence = ""
    offset = 0
    for line in text.splitlines(keepends=True):
        opening = _FENCE.match(line)
        if fence:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = ""
        elif opening:
            fence = opening.group(1)
        else:
            yield offset, line
        offset += len(line)
