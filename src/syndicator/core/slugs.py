"""A post's slug and id as its file name and front matter give them, before the parser checks them.

One rule for the parser, which publishes a post at its slug, and for the WordPress
import, which must see a publisher's own posts by the slugs they are published at.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from syndicator.core.markup import slugify

Slugify = Callable[[str], str]

SAFE_SLUG = re.compile(r"[\w][\w.~-]*\Z")  # a slug used as it is written (else slugify makes one of it)
_DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}-")


def text_of(value: Any) -> str | None:
    """A front matter value as text, trimmed (a number as YAML read it: ``slug: 2020`` is "2020"); None for a value
    that is no text (a list, a map, true or false)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value).strip()


def default_slug(path: str, slug_of: Slugify = slugify) -> str:
    """The slug of a post file: its name without extension and without a leading date.

    A page bundle's ``index.md`` (``trip/index.md``, its files beside it) takes its folder's name.
    """
    file = PurePosixPath(path)
    name = file.parent.name if file.stem.lower() == "index" and file.parent.name else file.stem
    stem = _DATE_PREFIX.sub("", name)
    return stem if SAFE_SLUG.match(stem) else slug_of(stem)


def given_slug(fields: Mapping[str, Any], path: str, slug_of: Slugify = slugify) -> str:
    """The slug a post file asks for: its front matter's ``slug`` when that is text, else its file name's."""
    return text_of(fields.get("slug")) or default_slug(path, slug_of)
