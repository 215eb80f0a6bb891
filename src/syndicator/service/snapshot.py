"""What the service serves and reports: the Snapshot of one reload (every feed, asset and page), and its BuildReport.

Frozen values: a reload builds a new Snapshot and publishes it by assigning one
attribute; a request takes that reference once.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from syndicator.config import Settings
from syndicator.core.cachekeys import SITE
from syndicator.core.cachekeys import key
from syndicator.core.catalog import Catalog
from syndicator.core.urls import FEEDS_PREFIX
from syndicator.core.urls import file_url
from syndicator.incremental.pagememo import NO_PAGES
from syndicator.incremental.pagememo import Pages
from syndicator.problem import LoadProblem
from syndicator.served import Cache
from syndicator.served import Served
from syndicator.store.records import FeedRecord
from syndicator.store.records import disk_states
from syndicator.store.records import intact

MEDIA_TYPES = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",  # the sitemap (at the site's root)
    ".txt": "text/plain; charset=utf-8",  # robots.txt
    ".ico": "image/vnd.microsoft.icon",  # favicon.ico
}
PRIVATE_PROBLEM = "a draft, a post not yet due or a post for partners has a problem (syndicator check lists it)"
SERVER_PROBLEM = "a file of the server's (a state file, the theme) has a problem; the server log names it"


def media_type(path: str) -> str:
    return MEDIA_TYPES.get(os.path.splitext(path)[1], "application/octet-stream")


def feed_kept(
    path: str,
    body: bytes,
    gzip_body: bytes,
    last_modified: float,
    *,
    etag: str | None = None,
    keys: tuple[str, ...] = (),
) -> Served:
    """A feed served from memory: its bytes and gzip twin."""
    return Served.kept(body, gzip_body, media_type(path), last_modified, cache=Cache.RELOAD, etag=etag, keys=keys)


def feed_stored(
    output_dir: Path,
    path: str,
    etag: str,
    last_modified: float,
    *,
    keys: tuple[str, ...] = (),
) -> Served:
    """A feed served from its file under output_dir (and its .gz twin): only what the headers need is in memory.

    An archive page is kept by readers as long as a feed (``reload_interval``), full or not: an edit of one of its
    posts changes it, and so does a post added later with an older date (RFC 5005 lets readers take a page as
    stable; a day-long max-age made them keep the old one a day)."""
    path_of = str(output_dir / path)
    return Served.in_file(path_of, media_type(path), etag, last_modified, cache=Cache.RELOAD, keys=keys)


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

    def changed_topics(self, settings: Settings) -> list[str]:
        """The URLs of the feeds whose bytes this reload changed: what WebSub is told."""
        return [file_url(settings, path) for path in self.written if path in self.topics]


def public_problems(
    problems: Iterable[LoadProblem], settings: Settings, unannounced: Collection[str] = ()
) -> tuple[tuple[str | None, int, str], ...]:
    """Problems as the public may see them: (path under posts_dir, line, message).

    A draft's problem is listed without its file, line or message (they may
    name an unpublished story), and so is one of a post not yet due that the
    public never saw (``unannounced``: their files), and any problem of a file
    outside posts_dir (a path on the server).
    """
    shown: list[tuple[str | None, int, str]] = []
    posts_dir = settings.posts_dir.absolute()
    for problem in problems:
        file = Path(problem.path).absolute()
        if problem.private or problem.path in unannounced:
            shown.append((None, 0, PRIVATE_PROBLEM))
        elif file.is_relative_to(posts_dir):
            shown.append((file.relative_to(posts_dir).as_posix(), problem.line, problem.message))
        else:
            shown.append((None, 0, SERVER_PROBLEM))
    return tuple(shown)


class PartnerView(Protocol):
    """The partner feeds of one reload (``partnerfeeds.Edition``): each made when first asked for."""

    @property
    def assets(self) -> Mapping[str, Served]:
        """The files of posts for partners only, by URL path (under /partners/feeds/media/)."""
        ...

    def file(self, path: str) -> Served | None:
        """The partner feed at this path under /partners/feeds/ (``category/x.atom``), or None."""
        ...

    def page(self, path: str) -> Served | None:
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
    files: dict[str, Served]
    report: BuildReport
    redirects: dict[str, str]  # old post slug -> current slug
    starting: bool = False  # the feeds an earlier run left in output_dir, served until the first load is done
    gone: Gone = Gone()
    partners: PartnerView | None = None
    assets: dict[str, Served] = field(default_factory=dict)  # by PATH_INFO (UTF-8 bytes read as Latin-1)
    pages: Pages = NO_PAGES


def stored_snapshot(settings: Settings, records: Mapping[str, FeedRecord], now: datetime) -> Snapshot:
    """What can be served before the first load: the feed files an earlier run left, as it recorded them.

    Only files still on disk as written are listed; each is served from its
    file. Pages and anything else wait for the first load (503).
    """
    disk = disk_states(settings.output_dir, records.values())
    files: dict[str, Served] = {}
    for record in records.values():
        if not intact(record, disk):
            continue
        for path, (_size, mtime_ns, etag) in record.files.items():
            if not path.endswith(".gz"):
                keys = (key(f"feed/{os.path.splitext(path)[0]}"), SITE)  # its own and the site's, until loaded
                files[FEEDS_PREFIX + path] = feed_stored(settings.output_dir, path, etag, mtime_ns / 1e9, keys=keys)
    report = BuildReport(0, 0, (), now, None, (), frozenset(), (), (), 0, 0.0)
    return Snapshot(Catalog.build([], now), files, report, {}, starting=True)
