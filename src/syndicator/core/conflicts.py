"""Git's conflict markers left in a post file: a merge its publisher has not finished, never to be published.

No I/O.
"""

from __future__ import annotations

from syndicator.core.fences import outside_fences

CONFLICT = "git's conflict markers (<<<<<<<, =======, >>>>>>>): finish the merge, keep one version and remove them"


def conflict_line(text: str) -> int | None:
    """The line (from 1) of the first ``<<<<<<<`` that a ``=======`` and a ``>>>>>>>`` follow at the start of lines
    outside fenced code (a post about git may show them in one); None when there is none."""
    if not (text.startswith("<<<<<<<") or "\n<<<<<<<" in text):
        return None
    start, middle = 0, False
    for offset, line in outside_fences(text):
        if line.startswith("<<<<<<<"):
            start, middle = text.count("\n", 0, offset) + 1, False
        elif start and line.rstrip("\r\n") == "=======":
            middle = True
        elif start and middle and line.startswith(">>>>>>>"):
            return start
    return None
