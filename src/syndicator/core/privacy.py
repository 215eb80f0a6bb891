"""The keys that keep a post from the public (``draft``, ``visibility``), and their near misses, failing closed.

A key that looks like ``draft`` or ``visibility`` misspelled keeps the post
unpublished rather than publishing an embargoed story to everyone. No I/O.
"""

from __future__ import annotations

PRIVACY_KEYS = ("draft", "visibility")  # the fields that keep a post from the public
MAX_EDITS = 2  # a key this close to one of them is taken for it, misspelled


def _edits(a: str, b: str, limit: int) -> int:
    """The Levenshtein distance between two short strings, or ``limit + 1`` once it is known to be larger."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, start=1):
        current = [i]
        for j, other in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def near_miss(key: object) -> str | None:
    """The privacy key that ``key`` misspells (``Draft``, ``visiblity``), or None (also for the key itself)."""
    if not isinstance(key, str) or key in PRIVACY_KEYS:
        return None
    folded = key.strip().casefold()
    for name in PRIVACY_KEYS:
        if _edits(folded, name, MAX_EDITS) <= MAX_EDITS:
            return name
    return None
