"""Write the planned posts into posts_dir, repeatably: new files, updated ones, and those edited since left alone.

A record of what was written (state_dir/wordpress.json) lets a second run
update the same files; media are brought over and referred to by relative paths.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from syndicator.core.frontmatter import FrontMatter
from syndicator.core.frontmatter import dump_post
from syndicator.core.frontmatter import split_front_matter
from syndicator.core.slugs import given_slug
from syndicator.core.slugs import text_of
from syndicator.importers.items import ImportReport
from syndicator.importers.items import PlannedPost
from syndicator.importers.media import MediaCopier
from syndicator.importers.media import Uploads
from syndicator.store.files import write_atomic

RECORD_FILE = "wordpress.json"
_URL_ATTRIBUTE = re.compile(r"""(\b(?:src|href|poster)\s*=\s*)(["'])(.*?)\2""", re.I | re.S)
_SRCSET = re.compile(r"""\s(?:srcset|sizes)\s*=\s*(["']).*?\1""", re.I | re.S)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Writer:
    """Writes one post file per item and keeps the record of what it wrote."""

    posts_dir: Path
    record: dict[str, dict[str, str]]
    report: ImportReport
    uploads: Uploads
    copier: MediaCopier | None
    force: bool
    taken: set[str] = field(default_factory=set)

    def write(self, item: PlannedPost) -> bool:
        """Write one post's file (unless unchanged or edited since); False when it could not be written."""
        known = self.record.get(item.key)
        existing = known is not None and (self.posts_dir / known["path"]).is_file()
        relative = known["path"] if known is not None and existing else self._new_name(item)
        try:
            data = self._text(item, relative).encode("utf-8")
            kept = self._kept_as_is(relative, data, known["sha256"] if known is not None and existing else None)
            if kept:
                return True
            write_atomic(self.posts_dir / relative, data)
        except OSError as exc:  # no space left, no permission...
            self.report.unwritten.append(f"post {item.key}: cannot write {relative}: {exc.strerror or exc}")
            return False
        (self.report.updated if known is not None and existing else self.report.new).append(relative)
        self.taken.add(relative)
        self.record[item.key] = {"path": relative, "sha256": _digest(data)}
        return True

    def _kept_as_is(self, relative: str, data: bytes, written: str | None) -> bool:
        """Whether the file at ``relative`` stays as it is: unchanged, or the publisher's since (unless --force).

        ``written`` is the digest of what the last import wrote there; None when the record names no file there
        (a first import, or a lost or damaged record): a file already in its place is then the publisher's too.
        """
        path = self.posts_dir / relative
        if written is None and not path.is_file():
            return False
        current = path.read_bytes()  # edited since in any encoding: still bytes
        if current == data:
            self.report.unchanged.append(relative)
            return True
        if _digest(current) != written and not self.force:
            self.report.kept_local.append(relative)
            return True
        return False

    def _new_name(self, item: PlannedPost) -> str:
        """Where a post the record does not know goes: its own name, unless another post's file holds it."""
        relative = item.file_name()
        if relative not in self.taken or self._holds(relative, item):
            return relative
        return f"{relative.removesuffix('.md')}-{item.key}.md"

    def _holds(self, relative: str, item: PlannedPost) -> bool:
        """Whether the file at ``relative`` is this item's post (same ``id``), from an import whose record is lost."""
        try:
            text = (self.posts_dir / relative).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return False
        front = split_front_matter(text, relative)
        return bool(item.id) and isinstance(front, FrontMatter) and front.fields.get("id") == item.id

    def _text(self, item: PlannedPost, relative: str) -> str:
        """The post file's text, its uploads brought over and referred to by relative paths."""
        prefix = os.path.relpath(self.posts_dir, (self.posts_dir / relative).parent).replace(os.sep, "/")
        prefix = "" if prefix == "." else prefix + "/"
        local = _Localizer(self.uploads, self.copier, prefix)
        body = _URL_ATTRIBUTE.sub(local.attribute, item.body)
        if self.copier is not None:
            body = _SRCSET.sub("", body)
        moved = dataclasses.replace(
            item,
            image=local.url(item.image) if item.image else "",
            enclosures=tuple(dataclasses.replace(e, url=local.url(e.url)) for e in item.enclosures),
        )
        return dump_post(moved.front_matter(), body)


@dataclass
class _Localizer:
    """Maps the old site's upload URLs to files in posts_dir (or, without media, to absolute old URLs)."""

    uploads: Uploads
    copier: MediaCopier | None
    prefix: str  # from the post file's folder to posts_dir

    def url(self, url: str) -> str:
        absolute = self.uploads.absolute(url)
        path = self.uploads.path_of(absolute) if self.copier is not None else None
        if path is None or self.copier is None:
            return absolute
        local = self.copier.bring(path)
        return absolute if local is None else self.prefix + local

    def attribute(self, match: re.Match[str]) -> str:
        old = html.unescape(match.group(3))
        new = self.url(old)
        return match.group(0) if new == old else f"{match.group(1)}{match.group(2)}{html.escape(new)}{match.group(2)}"


def slugs_here(
    posts_dir: Path, present: Iterable[str], record: dict[str, dict[str, str]]
) -> tuple[dict[str, set[str]], dict[str, str]]:
    """The slugs of the posts in posts_dir (``present``: their paths under it; each front matter's ``slug``, else its
    file name's): those of the files the import's record does not name, with the ids of the files holding each (""
    for none), and those of the files earlier imports wrote, by record key."""
    ours = {entry["path"]: key for key, entry in record.items()}
    others: dict[str, set[str]] = {}
    written: dict[str, str] = {}
    for relative in sorted(present):
        slug, post_id = _slug_and_id(posts_dir / relative, relative)
        if relative in ours:
            written[ours[relative]] = slug
        else:
            others.setdefault(slug, set()).add(post_id)
    return others, written


def _slug_and_id(path: Path, relative: str) -> tuple[str, str]:
    """A post file's slug (its front matter's, else its file name's) and its front matter's ``id`` ("": none)."""
    try:
        front = split_front_matter(path.read_text(encoding="utf-8"), relative)
    except (OSError, UnicodeDecodeError):
        front = None
    fields = front.fields if isinstance(front, FrontMatter) else {}
    return given_slug(fields, relative), text_of(fields.get("id")) or ""


def read_record(state_dir: Path) -> dict[str, dict[str, str]]:
    """What earlier imports wrote: record key -> the file's path under posts_dir and its digest (damaged: nothing)."""
    try:
        record = json.loads((state_dir / RECORD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(record, dict):
        return {}
    return {
        str(key): {"path": entry["path"], "sha256": entry["sha256"]}
        for key, entry in record.items()
        if isinstance(entry, dict) and isinstance(entry.get("path"), str) and isinstance(entry.get("sha256"), str)
    }
