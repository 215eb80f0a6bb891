"""The config file's tables beside its settings: ``[redirects]`` and ``[categories]``, read and checked.

An import adds entries to them in place (``store.configfile``), checked by the
same rules. No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

REDIRECT_KINDS = ("category", "tag", "author", "post")
CATEGORY_KEYS = ("parent", "description")
_NEW_SLUG = re.compile(r"[\w][\w.~-]*")  # a slug this site publishes (the rule of post and taxonomy slugs)
_OLD_SLUG = re.compile(r"[^/?#%\s\x00-\x1f\x7f]+")  # one decoded path segment of an old address


_TABLE_LINE = re.compile(r"\s*\[\s*([^\[\]]+?)\s*\]")
_KEY_LINE = re.compile(r"""\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*=""")
Lines = Mapping[tuple[str, str], int]  # (table, key) -> the line it is written on ("" for the top level)


class ConfigError(Exception):
    """A setting is unknown, of the wrong type or out of range."""


def key_lines(text: str) -> dict[tuple[str, str], int]:
    """The line each key of a TOML file is written on, by its table and itself (the table "" at the top): for
    messages, so a simple reading (a key on a line of its own, as a config file is written)."""
    lines: dict[tuple[str, str], int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), 1):
        if (header := _TABLE_LINE.match(line)) is not None:
            table = header.group(1).replace(" ", "").replace('"', "")
        elif (key := _KEY_LINE.match(line)) is not None:
            lines.setdefault((table, next(name for name in key.groups() if name is not None)), number)
    return lines


def located(source: str, lines: Lines, table: str, key: object) -> str:
    """``source:line`` of a key written in the file (``source`` alone when it cannot be found)."""
    line = lines.get((table, str(key)))
    return f"{source}:{line}" if line else source


@dataclass(frozen=True, slots=True)
class Redirects:
    """The ``[redirects]`` table: per kind, old slug -> new slug.

    Kinds: ``category``, ``tag``, ``author`` (old taxonomy slugs), and ``post``
    (old post slugs, and WordPress post ids for ``/?p=<id>`` and ``/archives/<id>``).
    """

    table: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    source: str = ""  # the config file it was read from, and its lines (for messages)
    lines: Lines = field(default_factory=dict)

    def get(self, kind: str, old: str) -> str | None:
        """The new slug of an old one of this kind, or None."""
        return self.table.get(kind, {}).get(old)

    def __len__(self) -> int:
        return sum(len(entries) for entries in self.table.values())

    def line_of(self, kind: str, old: str) -> int:
        """The line an entry is written on in the config file (1 when it cannot be told)."""
        return self.lines.get((f"redirects.{kind}", old), 1)


@dataclass(frozen=True, slots=True)
class Categories:
    """The ``[categories]`` table: per category slug, its ``parent`` (a slug) and ``description``.

    The WordPress import writes it: a category's place in WordPress's tree and its description.
    """

    table: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def parent(self, slug: str) -> str:
        """The slug of a category's parent ('' for a top-level category)."""
        return self.table.get(slug, {}).get("parent", "")

    def description(self, slug: str) -> str:
        return self.table.get(slug, {}).get("description", "")


def parse_categories(value: Any, source: str, lines: Lines | None = None) -> Categories:
    """Check a ``[categories]`` table: a table per URL-safe slug, of a parent slug and a description (``lines``: the
    file's, to name the line of a key that is wrong)."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: categories must be a table of category slugs")
    for slug, entry in value.items():
        where = f"{source}: categories.{slug}"
        if not _NEW_SLUG.fullmatch(slug) or not isinstance(entry, Mapping):
            raise ConfigError(f"{where}: must be a table named by a URL-safe category slug")
        for key, text in entry.items():
            at = f"{located(source, lines or {}, f'categories.{slug}', key)}: categories.{slug}"
            if key not in CATEGORY_KEYS:
                raise ConfigError(f"{at}: unknown key {key!r} (known: {', '.join(CATEGORY_KEYS)})")
            if not isinstance(text, str) or (key == "parent" and not _NEW_SLUG.fullmatch(text)):
                raise ConfigError(f"{at}.{key}: {text!r} is not {'a slug' if key == 'parent' else 'a string'}")
    return Categories({slug: dict(entry) for slug, entry in value.items()})


def parse_redirects(value: Any, source: str, lines: Lines | None = None) -> Redirects:
    """Check a ``[redirects]`` table: known kinds, tables of strings, URL-safe slugs (``lines``: the file's, to name
    the line of an entry that is wrong)."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: redirects must be a table of kinds ({', '.join(REDIRECT_KINDS)})")
    table: dict[str, dict[str, str]] = {}
    for kind, entries in value.items():
        if kind not in REDIRECT_KINDS:
            raise ConfigError(f"{source}: unknown redirect kind {kind!r} (known: {', '.join(REDIRECT_KINDS)})")
        if not isinstance(entries, Mapping):
            raise ConfigError(f"{source}: redirects.{kind} must be a table of old slug = new slug")
        for old, new in entries.items():
            check_redirect(kind, old, new, located(source, lines or {}, f"redirects.{kind}", old))
        table[kind] = dict(entries)
    return Redirects(table, source, lines or {})


def check_redirect(kind: str, old: Any, new: Any, source: str) -> None:
    """Raise ConfigError unless old is one path segment and new a URL-safe slug."""
    if not isinstance(new, str) or not _NEW_SLUG.fullmatch(new):
        raise ConfigError(f"{source}: redirects.{kind}: {new!r} (for {old!r}) is not a URL-safe slug")
    if not isinstance(old, str) or not _OLD_SLUG.fullmatch(old) or old in (".", ".."):
        raise ConfigError(f"{source}: redirects.{kind}: old slug {old!r} is not one URL path segment")
