"""LoadProblem: something wrong with one post file, on its line (kept apart from the model so that a command
reading a builder's report back imports nothing else)."""

from __future__ import annotations

from dataclasses import dataclass

from syndicator.pickling import by_fields


@by_fields
@dataclass(frozen=True, slots=True)
class LoadProblem:
    """Something wrong with one post file, reported with the line it is on.

    A problem with ``fatal`` set kept the post out (or kept its last good
    version); otherwise the post was published and the problem is a warning.
    A ``private`` one is of a post the public may not see (a draft, or for partners only): the public
    (``/healthz``) never sees it.
    """

    path: str
    line: int
    message: str
    fatal: bool = True
    private: bool = False

    def __str__(self) -> str:
        kind = "" if self.fatal else "warning: "
        path = self.path if self.path.isprintable() else repr(self.path)  # a CR in a file name rewrote the line
        return f"{path}:{self.line}: {kind}{self.message}"
