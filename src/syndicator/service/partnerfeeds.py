"""The partner feeds: every public feed path under /partners/feeds/, with full content and the posts for partners.

Rendered in memory through the same core.render path as the public feeds (with
``full_content`` on), never written to output_dir, and only when a partner asks:
a reload costs no rendering at all, and the partners' catalog only when a post
is for partners only (otherwise the public catalog serves). A document is kept
while its posts stay the same objects (the digests' key), up to ``max_bytes``.

Every address a partner feed names answers the partner: a post for partners
only has its page at /partners/posts/<slug>/ (made here when asked for, like
the feeds) and its files under /partners/feeds/media/ (an edition's
``assets``); a category, tag or author that only such posts are in links the
home page (``plan.feed_groups``).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import replace

from syndicator.config import Settings
from syndicator.core.catalog import Catalog
from syndicator.core.opml import opml
from syndicator.core.opml import opml_newest
from syndicator.core.pagerender import PageRenderer
from syndicator.core.partnerview import as_partners_see
from syndicator.core.pipeline import Published
from syndicator.core.plan import FeedSpec
from syndicator.core.render import document_parts
from syndicator.core.urls import OPML
from syndicator.core.urls import PARTNER_FEEDS_PREFIX
from syndicator.core.urls import PARTNERS_ROOT
from syndicator.core.urls import POSTS_PREFIX
from syndicator.incremental.gzip import compress
from syndicator.incremental.memo import Digests
from syndicator.incremental.memo import EntryMemo
from syndicator.incremental.memo import PagingMemo
from syndicator.model import Departed
from syndicator.model import Tombstone
from syndicator.served import HTML
from syndicator.served import Served
from syndicator.served import etag_of
from syndicator.service.assets import AssetWriter
from syndicator.service.assets import Located
from syndicator.service.assets import partner_assets
from syndicator.service.snapshot import feed_kept

MAX_BYTES = 64 * 1024 * 1024  # rendered partner documents kept (with their gzip forms)
ENTRY_SIZES = {"atom": 4000, "rss": 1000, "json": 1000}  # partner entries kept per format
PARTNER_POSTS = f"{PARTNERS_ROOT}{POSTS_PREFIX}"  # the pages of posts for partners only (``urls.post_url``)


class PartnerFeeds:
    """Owned by the builder: makes each reload's Edition and keeps what editions share (entries, documents).

    Thread-safe: requests render under one lock (partners are few; the public
    feeds never wait for it).
    """

    def __init__(self, settings: Settings, renderer: PageRenderer | None = None, *, max_bytes: int = MAX_BYTES) -> None:
        self.settings = replace(settings, full_content=True)
        self.renderer = renderer  # the pages' (None: no pages, as for a one-off build)
        self._media = AssetWriter(settings, partners=True)  # the files of posts for partners only
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._paging = PagingMemo(self.settings, PARTNER_FEEDS_PREFIX)
        self._entries = EntryMemo(self.settings, dict(ENTRY_SIZES), parallel_from=1 << 30)
        self._digests = Digests("partners")
        self._documents: OrderedDict[tuple[object, ...], dict[str, Served]] = OrderedDict()
        self._size = 0
        self._changed: dict[str, tuple[str, float]] = {}  # path -> (etag, when its bytes last changed)

    def edition(self, published: Published, files: Mapping[str, Located] | None = None) -> Edition:
        """The partner feeds of a reload: of the partners' catalog, or of the public one when no post is for them.

        They carry the tombstones of every post they held, those for partners
        only too. The files those posts use (``files``: every asset by path)
        are copied for partners, under state_dir, first.
        """
        catalog = published.partner_catalog or published.catalog
        wanted = partner_assets(published.partner_catalog.posts, files or {}) if published.partner_catalog else {}
        assets = self._media.publish_files(wanted, self._media.folders).files
        return Edition(
            self, catalog, published.partner_tombstones, published.catalog, assets, published.partner_departed
        )

    def file(self, edition: Edition, path: str) -> Served | None:
        """A partner feed of an edition (``category/x.atom``), rendered now or kept from before; None: no such feed."""
        with self._lock:
            specs, by_path = edition.specs(self._paging)
            if path == OPML:
                listed = tuple((s.stem, s.title, s.page_url) for s in specs if not s.is_archive)
                key: tuple[object, ...] = (OPML, opml_newest(specs), listed)
                return self._document(key, lambda: {OPML: opml(specs, self.settings)})[OPML]
            spec = by_path.get(path)
            if spec is None:
                return None
            key = self._digests.key(spec, edition.catalog)
            return self._document(key, lambda: self._render(spec, edition.catalog))[path]

    def page(self, edition: Edition, path: str) -> Served | None:
        """The page of a post for partners only (``/partners/posts/<slug>/``), made when first asked for; or None."""
        slug = path.removeprefix(PARTNER_POSTS).removesuffix("/")
        post = edition.catalog.by_slug.get(slug)
        renderer = self.renderer
        if renderer is None or post is None or not post.partners_only or path != f"{PARTNER_POSTS}{slug}/":
            return None
        labels = edition.catalog.labels(post)
        with self._lock:
            key: tuple[object, ...] = (PARTNER_POSTS, post, labels)
            return self._document(
                key, lambda: {path: renderer.post_page(as_partners_see(post, self.settings), labels)}
            )[path]

    def _document(self, key: tuple[object, ...], render: Callable[[], dict[str, bytes]]) -> dict[str, Served]:
        """A document's files: kept from before, or rendered now (the least used dropped beyond max_bytes)."""
        files = self._documents.get(key)
        if files is not None:
            self._documents.move_to_end(key)
            return files
        files = self._documents[key] = self._served(render())
        self._size += _size(files)
        while self._size > self.max_bytes and len(self._documents) > 1:
            _key, dropped = self._documents.popitem(last=False)
            self._size -= _size(dropped)
        return files

    def _render(self, spec: FeedSpec, catalog: Catalog) -> dict[str, bytes]:
        parts = document_parts(spec, self._entries.entries(spec, catalog), self.settings)
        return {path: b"".join(chunks) for path, chunks in parts.items()}

    def _served(self, bodies: dict[str, bytes]) -> dict[str, Served]:
        """Each document as served; its Last-Modified moves only when its bytes change."""
        now, files = time.time(), {}
        if len(self._changed) > 100_000:  # the paths of vanished feeds: forget them now and then
            self._changed.clear()
        for path, body in bodies.items():
            etag = etag_of(body)
            known = self._changed.get(path)
            last_modified = known[1] if known is not None and known[0] == etag else now
            self._changed[path] = (etag, last_modified)
            if path.endswith("/"):  # a post's page
                files[path] = Served.kept(body, compress(body), HTML, last_modified, etag=etag)
            else:
                files[path] = feed_kept(path, body, compress(body), last_modified, etag=etag)
        return files


class Edition:
    """One reload's partner feeds over its catalog; a request takes the Snapshot's, so it never mixes two.

    ``public``: the public catalog (the same as ``catalog`` when no post is for
    partners only); ``assets``: the files of posts for partners only, by URL path;
    ``departed``: each feed's posts gone from it (``feed_groups``).
    """

    def __init__(
        self,
        feeds: PartnerFeeds,
        catalog: Catalog,
        tombstones: Mapping[str, tuple[Tombstone, ...]] | None = None,
        public: Catalog | None = None,
        assets: Mapping[str, Served] | None = None,
        departed: Mapping[str, tuple[Departed, ...]] | None = None,
    ) -> None:
        self.catalog = catalog
        self.tombstones = tombstones or {}
        self.departed = departed or {}
        self.public = public
        self.assets = assets or {}
        self._feeds = feeds
        self._specs: tuple[list[FeedSpec], dict[str, FeedSpec]] | None = None

    def specs(self, paging: PagingMemo) -> tuple[list[FeedSpec], dict[str, FeedSpec]]:
        """The partner feeds' specs, and each file's (paged on the first request; call with the feeds' lock held)."""
        if self._specs is None:
            public = self.public if self.public is not self.catalog else None
            specs = paging.specs(self.catalog, self.tombstones, public, self.departed)
            self._specs = (specs, {path: spec for spec in specs for path in spec.paths})
        return self._specs

    def file(self, path: str) -> Served | None:
        return self._feeds.file(self, path)

    def page(self, path: str) -> Served | None:
        return self._feeds.page(self, path)


def _size(files: dict[str, Served]) -> int:
    return sum(len(f.body or b"") + len(f.gzip_body or b"") for f in files.values())
