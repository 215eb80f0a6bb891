"""Where a build's feeds go: to output_dir only (a one-off build), or to output_dir and to the web app (a server).

Everything a server's build does that a one-off build does not is decided
here: a server holds every feed's bytes for its requests (archive pages are
read from their files), makes the HTML pages, and serves the partner feeds and
the assets from each Snapshot. A one-off build holds nothing once a file is
written; as nothing else runs in its process, it may hand work (half of a
large write, the post cache's file) to a forked copy of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Protocol

from syndicator.config import Settings
from syndicator.core.cachekeys import INDEX
from syndicator.core.cachekeys import SITE
from syndicator.core.cachekeys import feed_keys
from syndicator.core.pipeline import Published
from syndicator.core.plan import FeedSpec
from syndicator.incremental.pagememo import Pages
from syndicator.served import Served
from syndicator.service.assets import Located
from syndicator.service.snapshot import BuildReport
from syndicator.service.snapshot import Gone
from syndicator.service.snapshot import Snapshot
from syndicator.service.snapshot import feed_kept
from syndicator.service.snapshot import feed_stored

if TYPE_CHECKING:  # a one-off build makes no page: Jinja and the partner feeds are imported by a server's output
    from syndicator.core.pagerender import PageRenderer

HeldFiles = dict[str, Served]  # every feed file held for requests, by URL path


class Output(Protocol):
    """What a build does with the files it writes, beyond writing them (the builder and its writer own one)."""

    @property
    def forks(self) -> bool:
        """Whether work may go to a forked copy of the process (nothing but the build runs in it)."""
        ...

    @property
    def renderer(self) -> PageRenderer | None:
        """What draws the HTML pages, or None when no page is made."""
        ...

    def fresh(
        self, path: str, body: bytes, zipped: bytes, etag: str, last_modified: float, spec: FeedSpec | None = None
    ) -> Served | None:
        """How a file just written (``spec``'s, or the OPML) is held for requests; None: it is not held."""
        ...

    def current(self, spec: FeedSpec, path: str, etag: str, last_modified: float) -> Served | None:
        """How a file of ``spec`` already current in output_dir is held for requests; None: it is not held."""
        ...

    def snapshot(
        self,
        published: Published,
        report: BuildReport,
        redirects: dict[str, str],
        files: HeldFiles,
        assets: dict[str, Served],
        pages: Pages,
        sources: Mapping[str, Located],
    ) -> Snapshot:
        """The Snapshot of a reload: what it published, its report, the feeds, assets and pages it made.

        ``sources``: every asset under posts_dir by path (those of posts for
        partners only are copied for the partners).
        """
        ...


class FilesOutput:
    """A one-off build's output: the files in output_dir and nothing more (no bytes held, no page made)."""

    forks = True
    renderer = None

    def fresh(
        self, path: str, body: bytes, zipped: bytes, etag: str, last_modified: float, spec: FeedSpec | None = None
    ) -> Served | None:
        return None

    def current(self, spec: FeedSpec, path: str, etag: str, last_modified: float) -> Served | None:
        return None

    def snapshot(
        self,
        published: Published,
        report: BuildReport,
        redirects: dict[str, str],
        files: HeldFiles,
        assets: dict[str, Served],
        pages: Pages,
        sources: Mapping[str, Located],
    ) -> Snapshot:
        return Snapshot(published.catalog, {}, report, redirects, gone=gone_of(published))


class ServingOutput:
    """A server's output: every feed held for requests (in memory, or an archive page from its file), the pages,
    the partner feeds and the assets.
    """

    forks = False  # a server's process holds threads (its scheduler, its requests): never forked

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        from syndicator.service.partnerfeeds import PartnerFeeds
        from syndicator.service.theme import page_renderer

        self.renderer = page_renderer(settings)
        self.partner_feeds = PartnerFeeds(settings, self.renderer)  # rendered when a partner asks, never written
        self._keys: dict[int, tuple[FeedSpec, tuple[str, ...]]] = {}  # each spec's keys, for its formats' files

    def _keys_of(self, spec: FeedSpec | None) -> tuple[str, ...]:
        """A spec's cache keys (the OPML's for None), made once for the files of its formats in a reload."""
        if spec is None:
            return (INDEX, SITE)
        known = self._keys.get(id(spec))
        if known is None or known[0] is not spec:
            known = self._keys[id(spec)] = (spec, feed_keys(spec))
        return known[1]

    def fresh(
        self, path: str, body: bytes, zipped: bytes, etag: str, last_modified: float, spec: FeedSpec | None = None
    ) -> Served | None:
        keys = self._keys_of(spec)
        if spec is not None and spec.is_archive:  # most of the bytes, seldom asked for: read from the file
            return feed_stored(self.settings.output_dir, path, etag, last_modified, keys=keys)
        return feed_kept(path, body, zipped, last_modified, etag=etag, keys=keys)

    def current(self, spec: FeedSpec, path: str, etag: str, last_modified: float) -> Served | None:
        out_dir, keys = self.settings.output_dir, self._keys_of(spec)
        if spec.is_archive:
            return feed_stored(out_dir, path, etag, last_modified, keys=keys)
        body = (out_dir / path).read_bytes()
        return feed_kept(path, body, (out_dir / f"{path}.gz").read_bytes(), last_modified, keys=keys)

    def snapshot(
        self,
        published: Published,
        report: BuildReport,
        redirects: dict[str, str],
        files: HeldFiles,
        assets: dict[str, Served],
        pages: Pages,
        sources: Mapping[str, Located],
    ) -> Snapshot:
        self._keys = {}  # the next reload's specs are new objects
        return Snapshot(
            published.catalog,
            files,
            report,
            redirects,
            gone=gone_of(published),
            partners=self.partner_feeds.edition(published, sources),
            assets=assets,
            pages=pages,
        )


def gone_of(published: Published) -> Gone:
    """What was published and is no more (410 Gone)."""
    return Gone(published.gone_posts, published.gone_feeds)
