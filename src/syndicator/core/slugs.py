"""A post's slug and id as its file name and front matter give them, before the parser checks them.

One rule for the parser, which publishes a post at its slug, and for the WordPress
import, which must see a publisher's own posts by the slugs they are published at.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from syndicator.core.markup import slugify

Slugify = Callable[[str], str]

_WORDS = re.compile(r"[\w][\w.~-]*\Z")  # the common case of a safe slug, matched in C
_DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}-")


def text_of(value: Any) -> str | None:
    """A front matter value as text, trimmed (a number as YAML read it: ``slug: 2020`` is "2020"); None for a value
    that is no text (a list, a map, true or false)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value).strip()


def is_safe_slug(slug: str) -> bool:
    """Whether a slug is used as it is written (else slugify makes one of it): a letter, digit or ``_``, then those,
    marks (the vowel signs of Hindi, Thai or Tamil, Arabic's harakat, an accent written apart), ``.``, ``~``, ``-``."""
    if _WORDS.match(slug):
        return True
    return bool(slug) and _WORDS.match(slug[0]) is not None and all(map(_in_slug, slug))


def _in_slug(character: str) -> bool:
    return character.isalnum() or character in "_.~-" or unicodedata.category(character).startswith("M")


def slug_as_written(name: str, slug_of: Slugify = slugify) -> str:
    """A name composed as typed (NFC: a name macOS wrote decomposed), used as it is when it is a safe slug, else the
    slug ``slug_of`` makes of it ("" when it has no letter or digit)."""
    name = unicodedata.normalize("NFC", name)
    return name if is_safe_slug(name) else slug_of(name)


def default_slug(path: str, slug_of: Slugify = slugify) -> str:
    """The slug of a post file: its name without extension and without a leading date.

    A page bundle's ``index.md`` (``trip/index.md``, its files beside it) takes its folder's name.
    """
    file = PurePosixPath(path)
    name = file.parent.name if file.stem.lower() == "index" and file.parent.name else file.stem
    return slug_as_written(_DATE_PREFIX.sub("", name), slug_of)


def given_slug(fields: Mapping[str, Any], path: str, slug_of: Slugify = slugify) -> str:
    """The slug a post file asks for: its front matter's ``slug`` when that is text, else its file name's."""
    given = text_of(fields.get("slug"))
    return unicodedata.normalize("NFC", given) if given else default_slug(path, slug_of)
