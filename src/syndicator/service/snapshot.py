"""What the service serves and reports: each file as served, the Snapshot of one reload, and its BuildReport.

Frozen values: a reload builds a new Snapshot and publishes it by assigning one
attribute; a request takes that reference once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from syndicator.config import Settings
from syndicator.core.catalog import Catalog
from syndicator.core.urls import FEEDS_PREFIX
from syndicator.digest import digest
from syndicator.incremental.gzip import compress
from syndicator.incremental.pagememo import NO_PAGES
from syndicator.incremental.pagememo import Pages
from syndicator.model import LoadProblem
from syndicator.store.records import FeedRecord
from syndicator.store.records import disk_states
from syndicator.store.records import intact

MEDIA_TYPES = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
}
PRIVATE_PROBLEM = "a draft or a post for partners has a problem (syndicator check lists it)"
SERVER_PROBLEM = "a state file has a problem (the server log names it)"


def media_type(path: str) -> str:
    return MEDIA_TYPES.get(os.path.splitext(path)[1], "application/octet-stream")


def etag_of(body: bytes) -> str:
    """A file's strong ETag (without its quotes): a digest of its bytes."""
    return digest(body)[:32]


@dataclass(frozen=True, slots=True)
class FeedFile:
    """One feed as served: its bytes, their gzip form, a strong ETag for each, and when they last changed."""

    body: bytes
    gzip_body: bytes
    etag: str
    gzip_etag: str
    last_modified: float
    media_type: str
    long_lived: bool = False  # its bytes are not expected to change (a full archive page)
    on_disk: bool = False  # body and gzip_body are not kept: read the file (and its .gz) when asked for

    @classmethod
    def make(
        cls,
        path: str,
        body: bytes,
        last_modified: float,
        gzip_body: bytes | None = None,
        *,
        long_lived: bool = False,
        etag: str | None = None,
    ) -> FeedFile:
        tag = etag if etag is not None else etag_of(body)
        return cls(
            body=body,
            gzip_body=gzip_body if gzip_body is not None else compress(body),
            etag=tag,
            gzip_etag=f"{tag}-gz",
            last_modified=last_modified,
            media_type=media_type(path),
            long_lived=long_lived,
        )

    @classmethod
    def stored(cls, path: str, etag: str, last_modified: float, *, long_lived: bool = False) -> FeedFile:
        """A file served from disk: only what the headers need is kept in memory."""
        return cls(b"", b"", etag, f"{etag}-gz", last_modified, media_type(path), long_lived, on_disk=True)


@dataclass(frozen=True, slots=True)
class AssetFile:
    """An asset as served: its file under output_dir (never kept in memory), media type, size, ETag, mtime."""

    path: str
    media_type: str
    size: int
    etag: str
    mtime_ns: int

    @property
    def last_modified(self) -> float:
        return self.mtime_ns / 1e9


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What one reload did and found."""

    posts: int
    categories: int
    problems: tuple[LoadProblem, ...]
    loaded_at: datetime
    next_publish_at: datetime | None
    feeds: tuple[str, ...]
    topics: frozenset[str]  # the feeds (not archive pages or the OPML) a hub may be asked about
    written: tuple[str, ...]
    removed: tuple[str, ...]
    parsed: int
    duration_ms: float
    public_problems: tuple[tuple[str | None, int, str], ...] = ()  # what /healthz may show: see public_problems

    @property
    def failed(self) -> bool:
        """Whether any post could not be published (warnings do not count)."""
        return any(p.fatal for p in self.problems)


def public_problems(problems: Iterable[LoadProblem], settings: Settings) -> tuple[tuple[str | None, int, str], ...]:
    """Problems as the public may see them: (path under posts_dir, line, message).

    A draft's problem is listed without its file, line or message (they may
    name an unpublished story), and so is any problem of a file outside
    posts_dir (a path on the server).
    """
    shown: list[tuple[str | None, int, str]] = []
    posts_dir = settings.posts_dir.absolute()
    for problem in problems:
        file = Path(problem.path).absolute()
        if problem.private:
            shown.append((None, 0, PRIVATE_PROBLEM))
        elif file.is_relative_to(posts_dir):
            shown.append((file.relative_to(posts_dir).as_posix(), problem.line, problem.message))
        else:
            shown.append((None, 0, SERVER_PROBLEM))
    return tuple(shown)


class PartnerView(Protocol):
    """The partner feeds of one reload (``partnerfeeds.Edition``): each made when first asked for."""

    @property
    def assets(self) -> Mapping[str, AssetFile]:
        """The files of posts for partners only, by URL path (under /partners/feeds/media/)."""
        ...

    def file(self, path: str) -> FeedFile | None:
        """The partner feed at this path under /partners/feeds/ (``category/x.atom``), or None."""
        ...

    def page(self, path: str) -> FeedFile | None:
        """The page of a post for partners only at this URL path (``/partners/posts/<slug>/``), or None."""
        ...


@dataclass(frozen=True, slots=True)
class Gone:
    """What was published and is no more: its addresses answer 410 Gone."""

    posts: frozenset[str] = frozenset()  # slugs of deleted posts
    feeds: frozenset[str] = frozenset()  # stems of feeds whose last post went ("category/<slug>"...)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a request needs, immutable: the catalog, every feed and every asset by URL path, every page.

    ``catalog`` is the public one; ``partners`` the partner feeds and ``pages`` the pages (none for a one-off build).
    """

    catalog: Catalog
    files: dict[str, FeedFile]
    report: BuildReport
    redirects: dict[str, str]  # old post slug -> current slug
    starting: bool = False  # the feeds an earlier run left in output_dir, served until the first load is done
    gone: Gone = Gone()
    partners: PartnerView | None = None
    assets: dict[str, AssetFile] = field(default_factory=dict)  # by PATH_INFO (UTF-8 bytes read as Latin-1)
    pages: Pages = NO_PAGES


def stored_snapshot(settings: Settings, records: Mapping[str, FeedRecord], now: datetime) -> Snapshot:
    """What can be served before the first load: the feed files an earlier run left, as it recorded them.

    Only files still on disk as written are listed; each is served from its
    file. Pages and anything else wait for the first load (503).
    """
    disk = disk_states(settings.output_dir, records.values())
    files: dict[str, FeedFile] = {}
    for record in records.values():
        if not intact(record, disk):
            continue
        for path, (_size, mtime_ns, etag) in record.files.items():
            if not path.endswith(".gz"):
                files[FEEDS_PREFIX + path] = FeedFile.stored(path, etag, mtime_ns / 1e9)
    report = BuildReport(0, 0, (), now, None, (), frozenset(), (), (), 0, 0.0)
    return Snapshot(Catalog.build([], now), files, report, {}, starting=True)
