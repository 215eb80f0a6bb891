"""A post file's text -> Post | LoadProblem: YAML front matter, dates, terms, slug, id, and the rendered body.

Pure: the settings and the slug function are arguments. No I/O.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import UTC
from datetime import date as Date
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from syndicator.config import Settings
from syndicator.core.assets import media_prefix
from syndicator.core.episode import EPISODE_FIELDS
from syndicator.core.episode import no_audio_note
from syndicator.core.episode import read_episode
from syndicator.core.episode import shows_of
from syndicator.core.frontmatter import kind_of
from syndicator.core.frontmatter import shown
from syndicator.core.frontmatter import split_front_matter
from syndicator.core.frontmatter import unknown_keys
from syndicator.core.markup import Sanitizer
from syndicator.core.markup import slugify
from syndicator.core.markup import url_scheme
from syndicator.core.markup import xml_legal
from syndicator.core.media import MediaSource
from syndicator.core.media import read_media
from syndicator.core.privacy import near_miss
from syndicator.core.privacy import private_fields
from syndicator.core.privacy import private_text
from syndicator.core.slugs import Slugify
from syndicator.core.slugs import given_slug
from syndicator.core.slugs import is_safe_slug
from syndicator.core.slugs import text_of
from syndicator.core.summary import sources
from syndicator.core.text import MarkdownText
from syndicator.core.urls import default_post_id
from syndicator.core.urls import page_path_of
from syndicator.core.urls import post_path
from syndicator.model import LINED_FIELDS
from syndicator.model import NO_MEDIA
from syndicator.model import VISIBILITIES
from syndicator.model import Author
from syndicator.model import Episode
from syndicator.model import Media
from syndicator.model import Post
from syndicator.model import Term
from syndicator.problem import LoadProblem

NO_SLUG = "no letter or digit: give the post a slug: in its front matter"
FIELDS = (
    *("title", "date", "updated", "categories", "tags", "author", "slug", "id", "draft", "summary"),
    *("image", "enclosures", "license", "visibility"),  # media, partner-grade rights, partner-only posts
    *EPISODE_FIELDS,  # a podcast episode's
    *("type", "path"),  # a page (``type: page``) and where it is served
)
TYPES = ("post", "page")
AUTHOR_FIELDS = ("name", "email", "uri")
MAX_TERMS = 100  # categories and tags of one post: more are reported and left out
MISSPELLED = "the post stays unpublished until the key is spelled right (or removed)"
MAX_SLUG_BYTES = 200  # a slug names files and folders (``<slug>.atom.gz`` and its temp file fit in 255 bytes)


class _Invalid(Exception):
    """A front matter field is wrong; carries the field's name for its line."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def decode_post(data: bytes, path: str) -> str | LoadProblem:
    """Decode a post file's bytes as UTF-8 (a BOM is allowed); the problem of one that is not is private when its
    front matter, read as well as it can be, names a privacy key (failing closed, as for front matter YAML refuses)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        message = f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        return LoadProblem(path, line, message, private=private_text(data.decode("utf-8", "replace")))


def _text(field: str, value: Any, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    text = text_of(value)
    if text is None:
        raise _Invalid(field, f"{field} must be text, not {kind_of(value)}")
    if required and not text:
        raise _Invalid(field, f"{field} is empty")
    return text


def _datetime(field: str, value: Any, settings: Settings) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().upper())  # RFC 3339 allows t and z
        except ValueError:
            try:
                value = Date.fromisoformat(value.strip())
            except ValueError:
                raise _Invalid(field, f"{field} {shown(value)} is not an ISO 8601 date or date-time") from None
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=settings.tz)
    elif isinstance(value, Date):
        moment = datetime(value.year, value.month, value.day, tzinfo=settings.tz)
    else:
        raise _Invalid(field, f"{field} must be an ISO 8601 date or date-time, not {kind_of(value)}")
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        raise _Invalid(field, f"{field} {value.isoformat()!r} is out of range once moved to UTC") from None
    if not 1 < moment.year < 9999:
        raise _Invalid(field, f"{field} {value.isoformat()!r} is out of range (years 2 to 9998)")
    return moment


def _names(field: str, value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise _Invalid(field, f"{field} must be a list of names")
        name = str(item).strip()
        if name:
            names.append(name)
    return names


@dataclass
class _Reading:
    """What parsing one file needs besides its fields: names, settings, lines, and what it found to report."""

    path: str
    source: str
    settings: Settings
    line_of: Callable[[str], int]
    slug_of: Slugify
    sanitizer: Sanitizer
    notes: list[LoadProblem] = field(default_factory=list)
    cleaned: list[str] = field(default_factory=list)  # fields XML-illegal characters were removed from

    def clean(self, field: str, text: str) -> str:
        """The text without XML-illegal characters (and a note of the field when there were some)."""
        cleaned, changed = xml_legal(text)
        if changed and field not in self.cleaned:
            self.cleaned.append(field)
        return cleaned

    def note(self, field: str, message: str) -> None:
        self.notes.append(LoadProblem(self.path, self.line_of(field), message, fatal=False))

    def warnings(self) -> tuple[LoadProblem, ...]:
        removed = tuple(
            LoadProblem(self.path, self.line_of(f), f"removed XML-illegal characters from {f}", fatal=False)
            for f in self.cleaned
        )
        return removed + tuple(self.notes)


def _terms(field: str, names: list[str], reading: _Reading) -> tuple[Term, ...]:
    terms: dict[str, Term] = {}
    for name in names:
        name = reading.clean(field, name)
        slug = reading.slug_of(name)
        if not slug:  # the post is published without it
            reading.note(field, f"{field}: {shown(name)} gives an empty URL slug (no letter or digit): left out")
            continue
        if len(slug.encode()) > MAX_SLUG_BYTES:
            cut = name if len(name) <= 40 else name[:40] + "…"
            raise _Invalid(field, f"{field}: {cut!r} gives a URL slug over {MAX_SLUG_BYTES} bytes")
        terms.setdefault(slug, _term(slug, name))
    return tuple(terms.values())


# One instance of an equal category, tag or author for all the posts naming it (frozen): a post cache of 10,000 posts
# pickles a few hundred, not 40,000 copies (and is read back a third faster); 65,536 distinct ones are kept.
_term = functools.lru_cache(maxsize=2**16)(Term)
_shared_author = functools.lru_cache(maxsize=2**16)(Author)
_shared_lines = functools.lru_cache(maxsize=2**12)(tuple[int, ...])


def parse_post(
    text: str,
    path: str,
    settings: Settings,
    source: str | None = None,
    *,
    slug_of: Slugify = slugify,
    sanitizer: Sanitizer | None = None,
) -> Post | LoadProblem:
    """Parse one post file's text into a Post, or say what is wrong with it.

    ``path`` names the file in messages; ``source`` is its path under posts_dir
    (default: ``path``); ``slug_of`` makes URL slugs of names (a caller may
    remember its answers), ``sanitizer`` the one to clean its HTML with (a caller
    parsing many keeps one). The problems of a post kept from the public (a
    draft, or for partners only) are private; so are those of a file whose
    front matter says so in any way, or may (see core.privacy), even when the
    rest of it cannot be read.
    """
    tools = (slug_of, sanitizer or Sanitizer())
    result, private = _parse_post(text, path, settings, source if source is not None else path, tools)
    if not private:
        return result
    if isinstance(result, LoadProblem):
        return replace(result, private=True)
    return replace(result, warnings=tuple(replace(w, private=True) for w in result.warnings))


def _parse_post(
    text: str, path: str, settings: Settings, source: str, tools: tuple[Slugify, Sanitizer]
) -> tuple[Post | LoadProblem, bool]:
    """The file's Post or problem, and whether it is private (decided from the parsed post or its fields)."""
    front = split_front_matter(text, path)
    if isinstance(front, LoadProblem):
        return front, private_text(text)
    body_line = front.text.count("\n") + 3
    reading = _Reading(path, source, settings, lambda f: front.line_of(f) if f != "body" else body_line, *tools)
    for key, line in front.duplicates:
        reading.notes.append(LoadProblem(path, line + 2, f"{shown(key)} is given twice; the last value is used", False))
    try:
        post = _build_post(front.fields, text[front.body_start :], reading)
    except _Invalid as exc:
        return LoadProblem(path, front.line_of(exc.field), exc.message), private_fields(front.fields)
    return post, post.private


def _title_and_dates(meta: dict[str, Any], reading: _Reading) -> tuple[str, datetime, datetime]:
    if "title" not in meta:
        raise _Invalid("title", "title is missing")
    title = reading.clean("title", _text("title", meta["title"], required=True))
    title = " ".join(filter(None, (line.strip() for line in title.splitlines())))  # one line, in every format
    if not title:
        raise _Invalid("title", "title is empty once XML-illegal characters are removed")
    if "date" not in meta or meta["date"] is None:
        raise _Invalid("date", "date is missing")
    published = _datetime("date", meta["date"], reading.settings)
    updated = _datetime("updated", meta["updated"], reading.settings) if meta.get("updated") is not None else published
    if updated < published:
        reading.note("updated", f"updated is before date ({published.date()}): the entry is dated by its date alone")
    return title, published, max(updated, published)


def _slug(meta: dict[str, Any], reading: _Reading) -> str:
    _text("slug", meta.get("slug"))  # a slug that is no text is refused
    slug = given_slug(meta, reading.source, reading.slug_of)
    if not is_safe_slug(slug):
        better = reading.slug_of(slug[:200])  # none for a name of no letter or digit (🎉.md): the front matter's
        raise _Invalid("slug", f"slug {shown(slug)} is not URL-safe ({f'try {shown(better)}' if better else NO_SLUG})")
    if len(slug.encode()) > MAX_SLUG_BYTES:
        raise _Invalid("slug", f"slug is {len(slug.encode())} bytes long, over {MAX_SLUG_BYTES}: give a shorter slug")
    return slug


def _author(value: Any, reading: _Reading) -> Author:
    settings = reading.settings
    if value is None:
        name, email, uri = settings.author_name, "", ""
    elif isinstance(value, dict):
        unknown = unknown_keys(value, AUTHOR_FIELDS, "author field")
        if value.get("name") is None:
            why = f" ({'; '.join(unknown)})" if unknown else ""
            raise _Invalid("author", f"author has no name{why}: write author: NAME or author: {{name: NAME, ...}}")
        for message in unknown:
            reading.note("author", message)
        name = _text("author", value.get("name"), required=True)
        email, uri = _text("author", value.get("email")), _text("author", value.get("uri"))
    else:
        name, email, uri = _text("author", value, required=True), "", ""
    name = reading.clean("author", name).strip() or settings.author_name
    uri = reading.clean("author", uri)
    if uri and url_scheme(uri) not in ("http", "https"):
        reading.note("author", f"author uri {shown(uri)} is not an http(s) URL; left out")
        uri = ""
    return _shared_author(name, reading.clean("author", email), uri, reading.slug_of(name) or "anonymous")


def _categories_and_tags(meta: dict[str, Any], reading: _Reading) -> tuple[tuple[Term, ...], tuple[Term, ...]]:
    for key in ("categories", "tags"):  # `tags: a, b` is one name to YAML: most likely two were meant
        if isinstance(value := meta.get(key), str) and "," in value:
            reading.note(key, f"{key} is one name, {shown(value)}: for several, write a list: [{value}]")
    categories = _terms("categories", _names("categories", meta.get("categories")), reading)
    tags = _terms("tags", _names("tags", meta.get("tags")), reading)
    if len(categories) + len(tags) > MAX_TERMS:
        message = f"{len(categories) + len(tags)} categories and tags; only the first {MAX_TERMS} are used"
        reading.note("categories" if categories else "tags", message)
        categories = categories[:MAX_TERMS]
        tags = tags[: MAX_TERMS - len(categories)]
    return categories, tags


def _page_path(meta: dict[str, Any], slug: str, reading: _Reading) -> str:
    """A page's path (``type: page``; default ``/<slug>/``), or "" for a post."""
    kind = meta.get("type", "post")
    if kind not in TYPES:
        raise _Invalid("type", f"type must be post or page, not {shown(kind)}")
    if kind == "post":
        if meta.get("path") is not None:
            reading.note("path", "path is only read for a page (type: page); ignored")
        return ""
    path, problem = page_path_of(_text("path", meta.get("path")) or slug)
    if problem:
        raise _Invalid("path", problem)
    return path


def _body(
    meta: dict[str, Any], body: str, path: str, draft: bool, reading: _Reading
) -> tuple[MarkdownText, Media, Episode | None]:
    """The post's text, the media it names and its episode (none for a draft, whose text is rendered when asked).

    ``path``: the URL path of its page, that relative links are resolved against.
    """
    body = reading.clean("body", body)
    content_md, summary_md = sources(body, reading.clean("summary", _text("summary", meta.get("summary"))))
    folder = PurePosixPath(reading.source).parent.as_posix().removeprefix(".")
    page_url = f"{reading.settings.base_url}{path}"
    text = MarkdownText(
        content_md=content_md,
        summary_md=summary_md,
        base_url=page_url,
        summary_words=reading.settings.summary_words,
        now=not draft,  # no feed or page shows a draft
        files=(folder, media_prefix(reading.settings)),
        sanitizer=reading.sanitizer,
    )
    if draft:
        return text, NO_MEDIA, None
    source = MediaSource(reading.settings, folder, page_url, reading.line_of, body, reading.line_of("body"))
    media, notes = read_media(meta, text, source)
    episode, media = read_episode(meta, media, source, notes)
    for field_name, message in notes:
        reading.note(field_name, message)
    return text, media, episode


def _build_post(meta: dict[str, Any], body: str, reading: _Reading) -> Post:
    """The Post of a file's fields."""
    for key in meta:
        misspelled = near_miss(key)
        if misspelled is not None:
            raise _Invalid(str(key), f"{shown(key)} looks like {misspelled!r} misspelled: {MISSPELLED}")
        for message in unknown_keys([key], FIELDS, "field"):
            reading.note(str(key), message)
    title, published, updated = _title_and_dates(meta, reading)
    slug = _slug(meta, reading)
    page_path = _page_path(meta, slug, reading)
    entry_id = reading.clean("id", _text("id", meta.get("id")))
    if not entry_id:
        entry_id = default_post_id(reading.settings, published.date().isoformat(), slug)
    draft = meta.get("draft", False)
    if not isinstance(draft, bool):
        raise _Invalid("draft", "draft must be true or false")
    visibility = meta.get("visibility", "public")
    if visibility not in VISIBILITIES:
        raise _Invalid("visibility", f"visibility must be one of {', '.join(VISIBILITIES)}, not {shown(visibility)}")
    author = _author(meta.get("author"), reading)
    categories, tags = _categories_and_tags(meta, reading)
    text, media, episode = _body(meta, body, page_path or post_path(slug), draft, reading)
    no_audio = no_audio_note(meta, media, shows_of(categories, reading.settings)) if not draft else None
    if no_audio is not None:
        reading.note(*no_audio)
    license_url = reading.clean("license", _text("license", meta.get("license")))
    if license_url and url_scheme(license_url) not in ("http", "https"):
        reading.note("license", f"license {shown(license_url)} is not an http(s) URL; left out")
        license_url = ""
    return Post(
        path=reading.path,
        slug=slug,
        id=entry_id,
        title=title,
        date=published,
        updated=updated,
        author=author,
        categories=categories,
        tags=tags,
        text=text,
        draft=draft,
        warnings=reading.warnings(),
        explicit_id="id" in meta and bool(meta["id"]),
        source=reading.source,
        license=license_url,
        visibility=visibility,
        media=media,
        episode=episode,
        page_path=page_path,
        lines=_shared_lines(tuple([reading.line_of(field) if field in meta else 0 for field in LINED_FIELDS])),
    )
