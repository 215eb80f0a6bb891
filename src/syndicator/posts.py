"""Read post files: parse each into a Post or a LoadProblem, cache by file state.

Which files are posts is ``sources``'s business. ``parse_post`` is pure; only
``PostCache.refresh`` touches the disk (a cold load parses half of the files in
a forked copy of the process, see ``forked``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
import stat
from collections.abc import Callable
from collections.abc import Collection
from dataclasses import dataclass
from dataclasses import replace
from datetime import UTC
from datetime import date as Date
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from syndicator import CODE_FINGERPRINT
from syndicator.config import Settings
from syndicator.forked import Forked
from syndicator.forked import can_fork
from syndicator.markup import MarkdownText
from syndicator.markup import slugify
from syndicator.markup import split_excerpt
from syndicator.markup import url_scheme
from syndicator.markup import xml_legal
from syndicator.model import Author
from syndicator.model import LoadProblem
from syndicator.model import Post
from syndicator.model import Term
from syndicator.sources import FileState
from syndicator.sources import file_state
from syndicator.sources import is_post_path
from syndicator.sources import scan

logger = logging.getLogger(__name__)

POSTS_CACHE_FILE = "posts.cache"
CHANGED_WHILE_READ = "file changed while it was read; it will be read again"
CACHE_VERSION = 5
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}-")
_SAFE_SLUG = re.compile(r"[\w][\w.~-]*\Z")
MAX_TERMS = 100  # categories and tags of one post: more are reported and left out
MAX_SLUG_BYTES = 200  # a slug names files and folders (``<slug>.atom.gz`` and its temp file fit in 255 bytes)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML (with PyYAML's C loader when present) that leaves timestamps as text and notes duplicate keys.

    Dates are then parsed by ``_datetime``, so an impossible date is a problem on
    the line of its field rather than an exception inside PyYAML. A key given twice
    in one mapping keeps its last value, as YAML loaders do, and is reported.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[str, int]] = []  # (key, line from 0 in the front matter)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _value in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    self.duplicates.append((str(key_node.value), key_node.start_mark.line))
                seen.add(key_node.value)
        return super().construct_mapping(node, deep)  # type: ignore[no-any-return]


_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def _load_yaml(front: str) -> tuple[Any, list[tuple[str, int]]]:
    """The front matter's value and its duplicate keys (key, line from 0)."""
    loader = _Loader(front)
    try:
        return loader.get_single_data(), loader.duplicates
    finally:
        loader.dispose()


class _Invalid(Exception):
    """A front matter field is wrong; carries the field's name for its line."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _printable(name: str) -> str:
    """A file name as it can be shown and stored: bytes that are not UTF-8 become U+FFFD."""
    return os.fsencode(name).decode("utf-8", "replace")


def default_slug(path: str) -> str:
    """The slug of a post file: its name without extension and without a leading date."""
    stem = _DATE_PREFIX.sub("", Path(path).stem)
    return stem if _SAFE_SLUG.match(stem) else slugify(stem)


def dump_post(meta: dict[str, Any], body: str) -> str:
    """The text of a post file: YAML front matter (fields in the given order), then the body."""
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=False, width=1000)
    return f"---\n{front}---\n\n{body.strip()}\n"


def decode_post(data: bytes, path: str) -> str | LoadProblem:
    """Decode a post file's bytes as UTF-8 (a BOM is allowed)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return LoadProblem(path, line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})")


def _field_line(front: str, field: str) -> int:
    for number, line in enumerate(front.splitlines(), start=2):
        if re.match(rf"{re.escape(field)}\s*:", line):
            return number
    return 1


def _text(field: str, value: Any, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Invalid(field, f"{field} must be a string, not {type(value).__name__}")
    text = str(value).strip()
    if required and not text:
        raise _Invalid(field, f"{field} is empty")
    return text


def _datetime(field: str, value: Any, settings: Settings) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("t", "T", 1))
        except ValueError:
            try:
                value = Date.fromisoformat(value.strip())
            except ValueError:
                raise _Invalid(field, f"{field} {value!r} is not an ISO 8601 date or date-time") from None
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=settings.tz)
    elif isinstance(value, Date):
        moment = datetime(value.year, value.month, value.day, tzinfo=settings.tz)
    else:
        raise _Invalid(field, f"{field} must be an ISO 8601 date or date-time, not {type(value).__name__}")
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


def _author(value: Any, settings: Settings) -> Author:
    if value is None:
        return Author(settings.author_name)
    if isinstance(value, dict):
        name = _text("author", value.get("name"), required=True)
        return Author(name, _text("author", value.get("email")), _text("author", value.get("uri")))
    return Author(_text("author", value, required=True))


class _Cleaner:
    """Strips XML-illegal characters and remembers where it did."""

    def __init__(self) -> None:
        self.fields: list[str] = []

    def __call__(self, field: str, text: str) -> str:
        cleaned, changed = xml_legal(text)
        if changed and field not in self.fields:
            self.fields.append(field)
        return cleaned


def _terms(field: str, names: list[str], clean: _Cleaner) -> tuple[Term, ...]:
    terms: dict[str, Term] = {}
    for name in names:
        name = clean(field, name)
        slug = slugify(name)
        if not slug:
            raise _Invalid(field, f"{field}: {name!r} gives an empty URL slug")
        if len(slug.encode()) > MAX_SLUG_BYTES:
            shown = name if len(name) <= 40 else name[:40] + "…"
            raise _Invalid(field, f"{field}: {shown!r} gives a URL slug over {MAX_SLUG_BYTES} bytes")
        terms.setdefault(slug, Term(slug, name))
    return tuple(terms.values())


_DRAFT_LINE = re.compile(r"^draft[ \t]*:[ \t]*(?:true|yes|on)[ \t]*(?:#.*)?$", re.IGNORECASE | re.MULTILINE)
_FRONT_END = re.compile(r"^---[ \t]*$", re.MULTILINE)


def parse_post(text: str, path: str, settings: Settings, source: str | None = None) -> Post | LoadProblem:
    """Parse one post file's text into a Post, or say what is wrong with it.

    ``path`` names the file in messages; ``source`` is its path under posts_dir
    (default: ``path``). The problems of a file whose front matter says
    ``draft: true`` are private, even when the rest of it cannot be read.
    """
    result = _parse_post(text, path, settings, source)
    end = _FRONT_END.search(text, 3)
    if not _DRAFT_LINE.search(text, 0, end.start() if end else 4096):
        return result
    if isinstance(result, LoadProblem):
        return replace(result, private=True)
    return replace(result, warnings=tuple(replace(w, private=True) for w in result.warnings))


def _parse_post(text: str, path: str, settings: Settings, source: str | None) -> Post | LoadProblem:
    if not text.strip():
        return LoadProblem(path, 1, "empty file")
    match = _FRONT_MATTER.match(text)
    if match is None:
        return LoadProblem(path, 1, "no front matter: the file must start with a '---' line and a YAML block")
    front = match.group(1) or ""
    try:
        meta, duplicates = _load_yaml(front)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        # problem_mark counts from 0 inside the front matter, which starts on file line 2;
        # YAML may point just past the block, so keep the line inside it.
        last_line = front.count("\n") + 1
        line = min(mark.line + 2, last_line) if mark is not None else 1
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return LoadProblem(path, line, f"invalid YAML front matter: {reason}")
    except RecursionError:
        return LoadProblem(path, 1, "invalid YAML front matter: nested too deeply")
    if not isinstance(meta, dict):
        return LoadProblem(path, 2, "front matter is not a mapping of fields")
    body = text[match.end() :]
    body_line = front.count("\n") + 3
    notes = [
        LoadProblem(path, line + 2, f"{key!r} is given twice; the last value is used", fatal=False)
        for key, line in duplicates
    ]
    try:
        return _build_post(
            meta,
            body,
            (path, source if source is not None else path),
            settings,
            lambda field: _field_line(front, field) if field != "body" else body_line,
            notes,
        )
    except _Invalid as exc:
        return LoadProblem(path, _field_line(front, exc.field), exc.message)


def _build_post(
    meta: dict[str, Any],
    body: str,
    names: tuple[str, str],
    settings: Settings,
    line_of: Callable[[str], int],
    notes: list[LoadProblem],
) -> Post:
    """The Post of a file's fields; ``names`` is (path for messages, path under posts_dir)."""
    path, source = names
    clean = _Cleaner()
    if "title" not in meta:
        raise _Invalid("title", "title is missing")
    title = clean("title", _text("title", meta["title"], required=True)).strip()
    if not title:
        raise _Invalid("title", "title is empty once XML-illegal characters are removed")
    if "date" not in meta or meta["date"] is None:
        raise _Invalid("date", "date is missing")
    published = _datetime("date", meta["date"], settings)
    updated = _datetime("updated", meta["updated"], settings) if meta.get("updated") is not None else published
    slug = _text("slug", meta.get("slug")) or default_slug(path)
    if not _SAFE_SLUG.match(slug):
        raise _Invalid("slug", f"slug {slug!r} is not URL-safe (try {slugify(slug)!r})")
    if len(slug.encode()) > MAX_SLUG_BYTES:
        raise _Invalid("slug", f"slug is {len(slug.encode())} bytes long, over {MAX_SLUG_BYTES}: give a shorter slug")
    entry_id = clean("id", _text("id", meta.get("id")))
    if not entry_id:
        entry_id = f"tag:{settings.authority},{published.date().isoformat()}:/posts/{slug}"
    draft = meta.get("draft", False)
    if not isinstance(draft, bool):
        raise _Invalid("draft", "draft must be true or false")
    author = _author(meta.get("author"), settings)
    name = clean("author", author.name).strip() or settings.author_name
    uri = clean("author", author.uri)
    if uri and url_scheme(uri) not in ("http", "https"):
        notes.append(LoadProblem(path, line_of("author"), f"author uri {uri!r} is not an http(s) URL; left out", False))
        uri = ""
    author = Author(name, clean("author", author.email), uri, slugify(name) or "anonymous")
    categories = _terms("categories", _names("categories", meta.get("categories")), clean)
    tags = _terms("tags", _names("tags", meta.get("tags")), clean)
    if len(categories) + len(tags) > MAX_TERMS:
        message = f"{len(categories) + len(tags)} categories and tags; only the first {MAX_TERMS} are used"
        notes.append(LoadProblem(path, line_of("categories" if categories else "tags"), message, fatal=False))
        categories = categories[:MAX_TERMS]
        tags = tags[: MAX_TERMS - len(categories)]

    page_url = f"{settings.base_url}/posts/{slug}/"
    body = clean("body", body)
    parts = split_excerpt(body)
    override = clean("summary", _text("summary", meta.get("summary")))
    text = MarkdownText(
        content_md=body if parts is None else parts[0] + parts[1],
        summary_md=override or (parts[0] if parts is not None else None),
        base_url=page_url,
        summary_words=settings.summary_words,
        now=not draft,  # no feed or page shows a draft
    )

    warnings = tuple(
        LoadProblem(path, line_of(field), f"removed XML-illegal characters from {field}", fatal=False)
        for field in clean.fields
    ) + tuple(notes)
    return Post(
        path=path,
        slug=slug,
        id=entry_id,
        title=title,
        date=published,
        updated=max(updated, published),
        author=author,
        categories=categories,
        tags=tags,
        text=text,
        draft=draft,
        warnings=warnings,
        explicit_id="id" in meta and bool(meta["id"]),
        source=source,
    )


@dataclass(frozen=True, slots=True)
class _Entry:
    state: tuple[int, int, int]
    digest: bytes
    result: Post | LoadProblem
    last_good: Post | None


Progress = Callable[[str, int, int], None]  # (stage, done, total)
PROGRESS_STEP = 100
PARALLEL_LOAD_FROM = 2000  # files to (re)load at once before a second process helps


class PostCache:
    """Keeps every post file's last parse, re-parsing only files that changed.

    A file is looked at again when its (size, mtime, inode) changed, and parsed
    again only when its bytes did (a git checkout resets mtimes). A file that
    now fails keeps its last good Post, which stays published. ``save``/``load``
    keep the cache under state_dir between processes.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._entries: dict[str, _Entry] = {}
        self._display_names: dict[str, tuple[str, str]] = {}
        self.parsed = 0
        self.dirty = False  # changed since it was loaded or saved
        self._result: tuple[list[Post], list[LoadProblem]] | None = None  # the last refresh's answer
        self._linked = False  # posts_dir has symlinked folders

    def _names(self, full: str) -> tuple[str, str]:
        """(path for messages, path under posts_dir) of a file."""
        names = self._display_names.get(full)
        if names is None:
            file = Path(full)
            try:
                display = file.relative_to(Path.cwd()).as_posix()
            except ValueError:
                display = file.as_posix()
            source = file.relative_to(self.settings.posts_dir).as_posix()
            display, source = _printable(display), _printable(source)
            names = self._display_names[full] = (display, source)
        return names

    def _read(self, full: str, path: str, st: os.stat_result) -> bytes | LoadProblem | None:
        """The file's bytes, a problem, or None when it changed while being read."""
        limit = self.settings.max_post_bytes
        if not stat.S_ISREG(st.st_mode):
            return LoadProblem(path, 1, "not a regular file (a FIFO, socket or device): not read")
        if st.st_size > limit:
            return LoadProblem(path, 1, f"file is {st.st_size} bytes, over max_post_bytes ({limit})")
        try:
            encoded = full.encode("utf-8")
        except UnicodeEncodeError:
            return LoadProblem(path, 1, "file name is not valid UTF-8: rename the file")
        try:
            # Non-blocking, so that a FIFO put in the file's place since the stat cannot hang the load.
            with open(os.open(encoded, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
                after = os.fstat(handle.fileno())
                if not stat.S_ISREG(after.st_mode):
                    return LoadProblem(path, 1, "not a regular file (a FIFO, socket or device): not read")
                data = handle.read(min(st.st_size, limit) + 1)
        except OSError as exc:
            return LoadProblem(path, 1, f"cannot read file: {exc.strerror}")
        if file_state(after) != file_state(st) or len(data) != after.st_size or len(data) > limit:
            return None
        return data

    def _load(self, full: str, st: os.stat_result, old: _Entry | None) -> _Entry:
        """Read one changed file; parse it unless its bytes are the ones already parsed."""
        path, source = self._names(full)
        state = file_state(st)
        data = self._read(full, path, st)
        if data is None:  # changed while read: not trusted, and read again next time
            result: Post | LoadProblem = LoadProblem(path, 1, CHANGED_WHILE_READ)
            digest, state = b"", (-1, -1, -1)
        elif isinstance(data, LoadProblem):
            result, digest = data, b""
        else:
            digest = hashlib.sha1(data, usedforsecurity=False).digest()
            if old is not None and old.digest == digest:
                return _Entry(state, digest, old.result, old.last_good)
            result = self._parse(data, path, source)
        if isinstance(result, LoadProblem):
            logger.warning("post failed path=%s line=%s reason=%s", result.path, result.line, result.message)
        last_good = result if isinstance(result, Post) else (old.last_good if old else None)
        return _Entry(state, digest, result, last_good)

    def _parse(self, data: bytes, path: str, source: str) -> Post | LoadProblem:
        text = decode_post(data, path)
        if isinstance(text, LoadProblem):
            return text
        self.parsed += 1
        return parse_post(text, path, self.settings, source)

    def refresh(
        self, progress: Progress | None = None, changed: Collection[str] | None = None
    ) -> tuple[list[Post], list[LoadProblem]]:
        """Bring the cache up to date with posts_dir; return the posts to publish and the problems.

        ``changed``: the only paths that may have changed since the last refresh
        (from a watcher); None looks at every file. When no file changed, the
        lists are the ones of the last refresh.
        """
        if changed is not None and self._result is not None and not self._linked:
            dirty = self._refresh_paths(changed)
        else:
            dirty = self._refresh_all(progress)
        self.dirty = self.dirty or dirty
        if dirty or self._result is None:
            posts: list[Post] = []
            problems: list[LoadProblem] = []
            for entry in self._entries.values():
                if isinstance(entry.result, LoadProblem):
                    problems.append(entry.result)
                else:
                    problems.extend(entry.result.warnings)
                if entry.last_good is not None:
                    posts.append(entry.last_good)
            self._result = (posts, problems)
        return self._result[0], list(self._result[1])

    def _refresh_all(self, progress: Progress | None) -> bool:
        """Stat every post file; (re)load those that changed. Whether anything did."""
        entries = self._entries
        seen: dict[str, _Entry | None] = {}
        to_load: list[tuple[str, os.stat_result, _Entry | None]] = []
        linked: list[str] = []
        for dir_entry in scan(str(self.settings.posts_dir), linked):
            full = dir_entry.path
            try:
                st = dir_entry.stat()
            except OSError:
                continue  # vanished between listing and stat
            old = entries.get(full)
            if old is not None and old.state == file_state(st):
                seen[full] = old
            else:
                seen[full] = None
                to_load.append((full, st, old))
        for (full, _st, _old), entry in zip(to_load, self._load_all(to_load, len(seen), progress), strict=True):
            seen[full] = entry
        self._linked = bool(linked)  # a watcher does not see into symlinked folders: always look at everything
        changed = bool(to_load) or len(seen) != len(entries)
        self._entries = {full: entry for full, entry in seen.items() if entry is not None}
        return changed

    def _load_all(
        self, to_load: list[tuple[str, os.stat_result, _Entry | None]], total: int, progress: Progress | None
    ) -> list[_Entry]:
        """Load files, the second half in a forked process when there are many (two cores parse twice as fast)."""
        half = len(to_load) // 2
        child = None
        if half >= PARALLEL_LOAD_FROM // 2 and can_fork():
            child = Forked(lambda: self._load_counted(to_load[half:]))
        mine = to_load[:half] if child is not None else to_load
        done_before = total - len(to_load)
        loaded = []
        for done, (full, st, old) in enumerate(mine):
            if progress is not None and done % PROGRESS_STEP == 0:
                progress("reading posts", done_before + done * len(to_load) // max(len(mine), 1), total)
            loaded.append(self._load(full, st, old))
        if child is not None:
            entries, parsed = child.result()
            loaded += entries
            self.parsed += parsed
        if progress is not None:
            progress("reading posts", total, total)
        return loaded

    def _load_counted(self, items: list[tuple[str, os.stat_result, _Entry | None]]) -> tuple[list[_Entry], int]:
        """Load files; also say how many were parsed (run in a forked copy, whose count would be lost)."""
        before = self.parsed
        entries = [self._load(full, st, old) for full, st, old in items]
        parsed, self.parsed = self.parsed - before, before
        return entries, parsed

    def _refresh_paths(self, paths: Collection[str]) -> bool:
        """Look only at these paths (created, written, moved or deleted). Whether anything changed."""
        root = str(self.settings.posts_dir)
        entries: dict[str, _Entry] | None = None  # copied on the first change
        for full in paths:
            if not is_post_path(root, full):
                continue
            old = self._entries.get(full)
            try:
                st = os.stat(full)
            except OSError:
                st = None
            if st is None or stat.S_ISDIR(st.st_mode):
                if old is None:
                    continue
                entries = entries if entries is not None else dict(self._entries)
                del entries[full]
                continue
            if old is not None and old.state == file_state(st):
                continue
            entries = entries if entries is not None else dict(self._entries)
            entries[full] = self._load(full, st, old)
        if entries is None:
            return False
        self._entries = entries
        return True

    def states(self) -> list[tuple[str, FileState]]:
        """Each known post file with the (size, mtime_ns, inode) it had when it was read."""
        return [(path, entry.state) for path, entry in self._entries.items()]

    def _fingerprint(self) -> str:
        return f"{CACHE_VERSION} {CODE_FINGERPRINT} {self.settings!r} {Path.cwd()}"

    def save(self, file: Path) -> None:
        """Write the cache to a file (atomically), for the next process, when it changed."""
        if not self.dirty and file.exists():
            return
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as handle:
            pickle.dump((self._fingerprint(), self._entries), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, file)
        self.dirty = False

    def load(self, file: Path) -> None:
        """Start from a saved cache when it was made with the same settings; otherwise start empty."""
        try:
            with open(file, "rb") as handle:
                fingerprint, entries = pickle.load(handle)  # noqa: S301 - our own file under state_dir
        except (OSError, EOFError, ValueError, TypeError, AttributeError, ImportError, pickle.UnpicklingError):
            return
        if fingerprint == self._fingerprint() and isinstance(entries, dict):
            self._entries = entries
