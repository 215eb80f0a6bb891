"""Whether a post file is private (a draft, or for partners only), decided from its fields, failing closed.

A private file's problems never reach the public (``/healthz``), and a key that
looks like ``draft`` or ``visibility`` misspelled keeps the post unpublished
rather than publishing an embargoed story to everyone. No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

PRIVACY_KEYS = ("draft", "visibility")  # the fields that keep a post from the public
MAX_EDITS = 2  # a key this close to one of them is taken for it, misspelled
_FRONT_END = re.compile(r"^---[ \t]*$", re.MULTILINE)
UNCLOSED_FRONT = 65536  # how much of a file whose front matter is never closed is looked at for privacy keys
_PUBLIC_VALUES = {  # the value of each privacy key that keeps a post public, after its key on a line of its own
    "draft": re.compile(r"""["']?\s*:\s*(?:false|False|FALSE)\s*(?:#.*)?$"""),
    "visibility": re.compile(r"""["']?\s*:\s*(["']?)public\1\s*(?:#.*)?$"""),
}
_KEY = re.compile(r"""\s*(?:-\s+)*["']?([^:"'#]*)""")  # the key of a ``key: value`` line (any indentation, quotes)


def _edits(a: str, b: str, limit: int) -> int:
    """The Levenshtein distance between two short strings, or ``limit + 1`` once it is known to be larger.

    It is at least the difference of their lengths, and at least the number of characters of ``a`` found nowhere
    in ``b`` (each needs an edit of its own): most pairs are ruled out by those counts before the table is made.
    """
    if abs(len(a) - len(b)) > limit or sum(char not in b for char in a) > limit:
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


def private_fields(fields: Mapping[str, object]) -> bool:
    """Whether front matter keeps its post from the public: a draft key with any value but false, a visibility key
    with any value but public, or a key that looks like one of them misspelled (failing closed: ``draft: "true"``,
    ``draft:`` with no value and ``draft: 0`` are private)."""
    if fields.get("draft", False) is not False or fields.get("visibility", "public") != "public":
        return True
    return any(near_miss(key) for key in fields)


def private_text(text: str) -> bool:
    """Whether the front matter of a file that cannot be read (as YAML, or as UTF-8) names a privacy key (or a near
    miss) on any of its lines: up to its closing ``---``, or its first UNCLOSED_FRONT characters.

    With no fields to go by, any such key makes the file's problems private, but for ``draft: false`` and
    ``visibility: public`` written as such on their line (a post's public ones).
    """
    end = _FRONT_END.search(text, 3, UNCLOSED_FRONT)
    for line in text[: end.start() if end else UNCLOSED_FRONT].splitlines():
        match = _KEY.match(line)
        key = match.group(1).strip() if match else ""
        if key in _PUBLIC_VALUES and _PUBLIC_VALUES[key].match(line, match.end() if match else 0):
            continue
        if key and (key in PRIVACY_KEYS or near_miss(key)):
            return True
    return False
