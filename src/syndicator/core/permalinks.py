"""How an old WordPress permalink of several segments names its post: by slug, or by id where a structure puts one.

WordPress's permalink structures put a post's id (``%post_id%``) only in a few
places: right after the date (``/2020/05/01/123/``, ``/2020/05/123/``), alone
(``/123/``) and after ``/archives/`` (its "numeric" structure); ``/?p=<id>`` is
a query. Anywhere else digits are no id: ``/<post>/2/`` and ``/<post>/page/2/``
are page 2 of a post split with ``<!--nextpage-->`` (the post itself here), and
``/search/2/`` or ``/x/555/`` name no post. No I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_YEAR = re.compile(r"\d{4}")
_MONTH_OR_DAY = re.compile(r"\d{1,2}")
NUMERIC_BASE = "archives"  # WordPress's numeric structure: /archives/<id>


@dataclass(frozen=True, slots=True)
class OldPermalink:
    """What an old address names: the last segment (a slug, or an id when ``numeric``) and the date before it."""

    name: str
    year: int = 0
    month: int = 0
    day: int = 0
    numeric: bool = False  # digits here are the post's id (a %post_id% place of a structure)


def without_page(segments: list[str]) -> list[str]:
    """The segments without a post's page number at the end (``<n>`` or ``page/<n>``)."""
    if len(segments) > 2 and segments[-2] == "page" and segments[-1].isdigit():
        return segments[:-2]
    if len(segments) > 1 and segments[-1].isdigit():
        return segments[:-1]
    return segments


def _date(segments: list[str]) -> tuple[int, int, int] | None:
    """The date the segments are (``YYYY/MM`` or ``YYYY/MM/DD``), or None."""
    if len(segments) not in (2, 3) or not _YEAR.fullmatch(segments[0]):
        return None
    if not all(_MONTH_OR_DAY.fullmatch(s) for s in segments[1:]):
        return None
    year, month, *day = (int(s) for s in segments)
    return year, month, day[0] if day else 0


def read_old_permalink(path: str) -> OldPermalink | None:
    """The post an old address of one or more segments names (a page number after it dropped); None when none."""
    segments = without_page([s for s in path.strip("/").split("/") if s])
    if not segments:
        return None
    name, before = segments[-1], segments[:-1]
    date = _date(before)
    if date is not None:
        return OldPermalink(name, *date, numeric=True)
    return OldPermalink(name, numeric=before in ([], [NUMERIC_BASE]))
