"""What a setting may be beyond its type, and the config file's tables (``[redirects]``, ``[categories]``).

The checks of single values (site_url's host and port, the site's images,
the mail relay) and the tables' parsing; ``config`` reads both with the
settings, and an import adds entries to the tables in place
(``store.configfile``). ``ConfigError`` is the one error of all of them.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REDIRECT_KINDS = ("category", "tag", "author", "post")
TABLES = ("redirects", "categories")  # tables of the config file, beside the SETTINGS keys
CATEGORY_KEYS = ("parent", "description")
NEW_SLUG = re.compile(r"[\w][\w.~-]*")  # a slug this site publishes (the rule of post and taxonomy slugs)
_OLD_SLUG = re.compile(r"[^/?#%\s\x00-\x1f\x7f]+")  # one decoded path segment of an old address


class ConfigError(Exception):
    """A setting is unknown, of the wrong type or out of range."""


@dataclass(frozen=True, slots=True)
class Redirects:
    """The ``[redirects]`` table: per kind, old slug -> new slug.

    Kinds: ``category``, ``tag``, ``author`` (old taxonomy slugs), and ``post``
    (old post slugs, and WordPress post ids for ``/?p=<id>`` and ``/archives/<id>``).
    """

    table: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def get(self, kind: str, old: str) -> str | None:
        """The new slug of an old one of this kind, or None."""
        return self.table.get(kind, {}).get(old)

    def __len__(self) -> int:
        return sum(len(entries) for entries in self.table.values())


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


def parse_categories(value: Any, source: str) -> Categories:
    """Check a ``[categories]`` table: a table per URL-safe slug, of a parent slug and a description."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: categories must be a table of category slugs")
    for slug, entry in value.items():
        where = f"{source}: categories.{slug}"
        if not NEW_SLUG.fullmatch(slug) or not isinstance(entry, Mapping):
            raise ConfigError(f"{where}: must be a table named by a URL-safe category slug")
        for key, text in entry.items():
            if key not in CATEGORY_KEYS:
                raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(CATEGORY_KEYS)})")
            if not isinstance(text, str) or (key == "parent" and not NEW_SLUG.fullmatch(text)):
                raise ConfigError(f"{where}.{key}: {text!r} is not {'a slug' if key == 'parent' else 'a string'}")
    return Categories({slug: dict(entry) for slug, entry in value.items()})


def parse_redirects(value: Any, source: str) -> Redirects:
    """Check a ``[redirects]`` table: known kinds, tables of strings, URL-safe slugs."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: redirects must be a table of kinds ({', '.join(REDIRECT_KINDS)})")
    table: dict[str, dict[str, str]] = {}
    for kind, entries in value.items():
        if kind not in REDIRECT_KINDS:
            raise ConfigError(f"{source}: unknown redirect kind {kind!r} (known: {', '.join(REDIRECT_KINDS)})")
        if not isinstance(entries, Mapping):
            raise ConfigError(f"{source}: redirects.{kind} must be a table of old slug = new slug")
        for old, new in entries.items():
            check_redirect(kind, old, new, source)
        table[kind] = dict(entries)
    return Redirects(table)


def check_redirect(kind: str, old: Any, new: Any, source: str) -> None:
    """Raise ConfigError unless old is one path segment and new a URL-safe slug."""
    if not isinstance(new, str) or not NEW_SLUG.fullmatch(new):
        raise ConfigError(f"{source}: redirects.{kind}: {new!r} (for {old!r}) is not a URL-safe slug")
    if not isinstance(old, str) or not _OLD_SLUG.fullmatch(old) or old in (".", ".."):
        raise ConfigError(f"{source}: redirects.{kind}: old slug {old!r} is not one URL path segment")


_SCHEME = re.compile(r"\s*([A-Za-z][A-Za-z0-9+.\-]*):")
_IMAGE = re.compile(r".+\.(?:png|jpe?g|gif|webp|avif|svg|ico|bmp)", re.IGNORECASE)  # an image file's name
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")  # one label of a host name (after IDNA)


def check_site_url(url: str) -> None:
    """site_url: http or https, a valid host (a name or an address) and port, nothing but a path after them."""
    split = urlsplit(url)
    try:
        port = split.port
    except ValueError:
        port = 0
    host = split.hostname or ""
    if split.scheme not in ("http", "https") or not valid_host(host) or port == 0 or split.username is not None:
        raise ConfigError(f"site_url: {url!r} is not an http(s) URL with a valid host and port")
    if split.query or split.fragment or url != url.strip():
        raise ConfigError(f"site_url: {url!r} must end with its path (no query, fragment or spaces)")


def valid_host(host: str) -> bool:
    """Whether a host is an IP address or a valid name (IDNA labels of letters, digits and hyphens)."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        name = host.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return 0 < len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.split("."))


def check_image_setting(name: str, value: str) -> None:
    """site_icon and site_logo: an http(s) URL or an image file (absolute, or a path under posts_dir)."""
    scheme = _SCHEME.match(value)
    if scheme and scheme.group(1).lower() not in ("http", "https") and not Path(value).is_absolute():
        raise ConfigError(f"{name}: {value!r} is neither an http(s) URL nor an image file")
    if value and not scheme and not _IMAGE.fullmatch(value.strip()):
        raise ConfigError(f"{name}: {value!r} is not an image file (.png, .jpg, .gif, .webp, .avif, .svg, .ico)")


def image_file(name: str, values: dict[str, Any], base: Path) -> None:
    """A site_icon or site_logo that names a file: resolved against ``base``; ConfigError when there is none."""
    value = values.get(name, "")
    if not isinstance(value, str) or not value or _SCHEME.match(value):
        return
    check_image_setting(name, value)
    full = Path(os.path.normpath(base / value))
    if not full.is_file():
        raise ConfigError(f"{name}: {full} is not a file (a relative path is resolved against the config's folder)")
    values[name] = str(full)


def relay_url(value: str) -> bool:
    split = urlsplit(value)
    try:  # the port out of range raises ValueError
        return split.scheme in ("smtp", "smtp+starttls", "smtps") and bool(split.hostname) and split.port != 0
    except ValueError:
        return False
