"""The config file's ``[podcasts.<category slug>]`` and ``[podcasts.all]`` tables: which feeds are podcasts, and how.

SHOW_KEYS is the single list of a show's keys (their type, default and help),
which drives the reader here and the README's table (tests/test_readme.py).
What a value must be to be read at all is checked here (a wrong one is a
ConfigError naming it); whether Apple knows a category, or an image has the
right size, is the core's to say (a warning: core.podcasts). Each key's line
in the file is kept for those warnings. No I/O: the file's text comes in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import ClassVar

SITE_SHOW = "all"  # [podcasts.all]: the site-wide feed is the show
SHOW_TYPES = ("episodic", "serial")
SUBCATEGORY = ">"  # "Society & Culture > Documentary": a category and its subcategory in one string
_SLUG = re.compile(r"[\w][\w.~-]*")  # a category slug (the rule config.py checks slugs with)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SCHEME = re.compile(r"\s*([A-Za-z][A-Za-z0-9+.\-]*):")
_KEY_LINE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_-]*)\s*=")
_HEADER = re.compile(r"\s*\[\s*podcasts\s*\.\s*(?:\"([^\"]*)\"|'([^']*)'|([^\]\s]+))\s*\]\s*(?:#.*)?$")


class PodcastConfigError(ValueError):
    """A value of a [podcasts.*] table that cannot be read (config.py makes it a ConfigError)."""


@dataclass(frozen=True, slots=True)
class ShowKey:
    name: str
    type: str  # as the README shows it
    default: str  # likewise
    help: str


SHOW_KEYS: tuple[ShowKey, ...] = (
    ShowKey("title", "str", "the feed's title", "Title of the show (the feed's title in every format)."),
    ShowKey("author", "str", "`site_author`", "Who makes the show (`itunes:author`)."),
    ShowKey("owner_name", "str", "`author`", "Name of the show's owner (`itunes:owner`)."),
    ShowKey(
        "owner_email",
        "str",
        '`""`',
        "E-mail address of the show's owner (`itunes:owner`, `podcast:locked owner`); "
        "directories send their ownership checks to it.",
    ),
    ShowKey(
        "image",
        "str",
        '`""`',
        "The show's artwork: a path under `posts_dir` or an http(s) URL of a square JPEG or PNG "
        "of 1400 to 3000 pixels (`itunes:image`).",
    ),
    ShowKey(
        "categories",
        "list",
        "`[]`",
        'Apple Podcasts categories, each `"Category"` or `"Category > Subcategory"` (`itunes:category`).',
    ),
    ShowKey("explicit", "bool", "`false`", "Whether the show holds explicit content (`itunes:explicit`)."),
    ShowKey("type", "str", '`"episodic"`', "`episodic` (newest first) or `serial` (in order) (`itunes:type`)."),
    ShowKey("language", "str", "`language`", "Language of the show (RSS `language`)."),
    ShowKey("copyright", "str", "`site_rights`", "Copyright of the show (RSS `copyright`)."),
    ShowKey("locked", "bool", "`false`", "Ask other platforms not to import the show (`podcast:locked`)."),
    ShowKey(
        "funding",
        "table or list",
        "none",
        "Where listeners support the show: `{url, text}`, or a list of them (`podcast:funding`).",
    ),
    ShowKey(
        "guid",
        "str",
        "the UUIDv5 of the feed URL",
        "The show's lasting identity (`podcast:guid`); keep it when the feed moves.",
    ),
)
_NAMES = tuple(key.name for key in SHOW_KEYS)


@dataclass(frozen=True, slots=True)
class Show:
    """One podcast: the feed it is (``slug``: a category's slug, or ``all``) and what its channel says.

    Empty text means the default (see SHOW_KEYS). ``source`` and ``lines``
    say where the table is written, for warnings; they change no output.
    """

    slug: str
    title: str = ""
    author: str = ""
    owner_name: str = ""
    owner_email: str = ""
    image: str = ""
    categories: tuple[tuple[str, str], ...] = ()  # (category, subcategory or "")
    explicit: bool = False
    type: str = "episodic"
    language: str = ""
    copyright: str = ""
    locked: bool = False
    funding: tuple[tuple[str, str], ...] = ()  # (url, text)
    guid: str = ""
    source: str = field(default="", compare=False, repr=False)
    lines: tuple[tuple[str, int], ...] = field(default=(), compare=False, repr=False)
    _hash_exclude_: ClassVar[frozenset[str]] = frozenset({"source", "lines"})  # in no output (digest.stable_hash)

    def line_of(self, key: str) -> int:
        """The line of a key in the config file (its table's header when the key is not on a line of its own)."""
        found = dict(self.lines)
        return found.get(key, found.get("", 1))

    @property
    def key(self) -> str:
        """How messages name the table: ``podcasts.<slug>``."""
        return f"podcasts.{self.slug}"


@dataclass(frozen=True, slots=True)
class Podcasts:
    """Every show of the config file, by the slug of its feed."""

    shows: tuple[Show, ...] = ()

    def get(self, slug: str) -> Show | None:
        return next((show for show in self.shows if show.slug == slug), None)

    def __bool__(self) -> bool:
        return bool(self.shows)


def parse_podcasts(value: Any, source: str, text: str = "", error: type[Exception] = PodcastConfigError) -> Podcasts:
    """Check a ``[podcasts]`` table: a table per category slug (or ``all``) of the keys SHOW_KEYS lists.

    ``text`` is the config file's text, for the lines of its keys; what cannot
    be read is an ``error`` (config.py's ConfigError) naming ``source`` and the key.
    """
    try:
        return _podcasts(value, source, text)
    except PodcastConfigError as exc:
        raise error(f"{source}: {exc}") from exc


def _podcasts(value: Any, source: str, text: str) -> Podcasts:
    if not isinstance(value, Mapping):
        raise PodcastConfigError("podcasts must be a table of [podcasts.<category slug>] tables")
    shows = []
    for slug, table in sorted(value.items()):
        if not _SLUG.fullmatch(slug) or not isinstance(table, Mapping):
            raise PodcastConfigError(f"podcasts.{slug}: must be a table named by a category slug (or all)")
        shows.append(_show(slug, table, source, _lines(text, slug)))
    guids: dict[str, str] = {}
    for show in shows:
        if show.guid and guids.setdefault(show.guid, show.key) != show.key:  # podcast:guid names one show
            raise PodcastConfigError(
                f"{show.key}.guid: {show.guid!r} is {guids[show.guid]}'s guid too; give each its own"
            )
    return Podcasts(tuple(shows))


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise PodcastConfigError(f"{where}: must be true or false, not {value!r}")
    return value


def _show_type(value: Any, where: str) -> str:
    if value not in SHOW_TYPES:
        raise PodcastConfigError(f"{where}: must be one of {', '.join(SHOW_TYPES)}, not {value!r}")
    return str(value)


def _guid(value: Any, where: str) -> str:
    guid = _text(value, where)
    if not _UUID.fullmatch(guid):
        raise PodcastConfigError(f"{where}: {guid!r} is not a UUID (8-4-4-4-12 hexadecimal digits)")
    return guid.lower()


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise PodcastConfigError(f"{where}: must be a string, not {value!r}")
    return value.strip()


def _categories(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    """``["News > Politics", "History"]`` (or ``[["News", "Politics"]]``) as (category, subcategory) pairs."""
    items = value if isinstance(value, list) else [value]
    found = []
    for item in items:
        if isinstance(item, str):
            category, _sep, sub = item.partition(SUBCATEGORY)
        elif isinstance(item, list) and 1 <= len(item) <= 2 and all(isinstance(i, str) for i in item):
            category, sub = item[0], item[1] if len(item) == 2 else ""
        else:
            raise PodcastConfigError(f'{where}: {item!r} is not "Category" or "Category > Subcategory"')
        if not category.strip():
            raise PodcastConfigError(f"{where}: {item!r} names no category")
        found.append((category.strip(), sub.strip()))
    return tuple(found)


def _funding(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    """``{url, text}`` or a list of them, as (url, text) pairs of http(s) URLs."""
    items = value if isinstance(value, list) else [value]
    found = []
    for item in items:
        if not isinstance(item, Mapping) or set(item) - {"url", "text"} or "url" not in item:
            raise PodcastConfigError(f"{where}: each must be a table {{url, text}}, not {item!r}")
        url, text = _text(item["url"], f"{where}.url"), _text(item.get("text", ""), f"{where}.text")
        scheme = _SCHEME.match(url)
        if scheme is None or scheme.group(1).lower() not in ("http", "https"):
            raise PodcastConfigError(f"{where}.url: {url!r} is not an http(s) URL")
        found.append((url, text))
    return tuple(found)


def _check_image(value: str, where: str) -> None:
    """An http(s) URL or a relative path (of a file under posts_dir), as site_icon and site_logo are."""
    scheme = _SCHEME.match(value)
    if scheme and scheme.group(1).lower() not in ("http", "https"):
        raise PodcastConfigError(f"{where}: {value!r} is neither an http(s) URL nor a path under posts_dir")
    if not scheme and value.startswith(("/", "\\", "..")):
        raise PodcastConfigError(f"{where}: {value!r} must be a path under posts_dir (relative) or a URL")


def _lines(text: str, slug: str) -> tuple[tuple[str, int], ...]:
    """The line of ``[podcasts.<slug>]`` (key "") and of each key written under it, in a TOML file's text."""
    found: list[tuple[str, int]] = []
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header is not None:
            inside = next(name for name in header.groups() if name is not None) == slug
            if inside:
                found.append(("", number))
        elif line.lstrip().startswith("["):
            inside = False
        elif inside and (key := _KEY_LINE.match(line)) is not None:
            found.append((key.group(1), number))
    return tuple(found)


# How each key's value is read (the others are text).
_READERS: dict[str, Callable[[Any, str], Any]] = {
    "explicit": _flag,
    "locked": _flag,
    "type": _show_type,
    "categories": _categories,
    "funding": _funding,
    "guid": _guid,
}


def _show(slug: str, table: Mapping[str, Any], source: str, lines: tuple[tuple[str, int], ...]) -> Show:
    where = f"podcasts.{slug}"
    unknown = [key for key in table if key not in _NAMES]
    if unknown:
        raise PodcastConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(_NAMES)})")
    values: dict[str, Any] = {}
    for key, value in table.items():
        read: Callable[[Any, str], Any] = _READERS.get(key, _text)
        values[key] = read(value, f"{where}.{key}")
    _check_image(values.get("image", ""), f"{where}.image")
    return Show(slug, **values, source=source, lines=lines)
