"""The HTML pages of a reload: rendered once, only those whose posts changed, kept gzipped with their ETags.

A post's excerpt is rendered once and joined into every archive page that
lists it (and its deflated form reused, as feed entries' are). An archive
whose posts tuple, name and category names are the last reload's keeps all its
pages; otherwise each of its pages is compared with the last one at its
address, and only a page whose posts or neighbours changed is made again. A
page made again with the same bytes keeps its ETag and Last-Modified.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Mapping
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from syndicator.config import Settings
from syndicator.core.catalog import Catalog
from syndicator.core.digest import digest
from syndicator.core.pageplan import HOME
from syndicator.core.pageplan import Archive
from syndicator.core.pageplan import Directory
from syndicator.core.pageplan import archives
from syndicator.core.pageplan import directory
from syndicator.core.pageplan import paged
from syndicator.core.pageplan import post_path
from syndicator.core.pagerender import PageRenderer
from syndicator.incremental.gzip import Compressor
from syndicator.model import Post

PAGE_BATCH = 256  # pages gzipped and hashed together (bounds the bytes held at once on a cold start)


@dataclass(frozen=True, slots=True)
class PageFile:
    """One page as served: its gzip bytes, the size and strong ETag of its bytes, and when they last changed.

    Only the gzip form is kept (every browser asks for it; a large blog has
    tens of thousands of pages): a client that refuses gzip gets it inflated.
    """

    gzip_body: bytes
    size: int
    etag: str
    last_modified: float

    @property
    def gzip_etag(self) -> str:
        return f"{self.etag}-gz"

    @property
    def body(self) -> bytes:
        return zlib.decompress(self.gzip_body, 31)


@dataclass(frozen=True, slots=True)
class Pages:
    """Every page of a reload by URL path (``/``, ``/category/x/page/2/``, ``/posts/x/``), and the 404 page."""

    by_path: Mapping[str, PageFile] = field(default_factory=dict)
    not_found: PageFile | None = None


NO_PAGES = Pages()


@dataclass(frozen=True, slots=True)
class _Made:
    """An archive's pages as last made: what they were made from, each page's key and each page's file, by path.

    The files of pages being made join ``files`` when they are packed.
    """

    key: tuple[object, ...]
    keys: dict[str, tuple[object, ...]]
    files: dict[str, PageFile]


class _Packer:
    """gzips and hashes rendered pages on the other threads while this one renders the next ones.

    A page whose bytes are its old file's keeps that file (its ETag and Last-Modified).
    """

    def __init__(self, compressor: Compressor, stamp: float) -> None:
        self.compressor = compressor
        self.stamp = stamp
        self.count = 0
        self._batch: list[tuple[str, list[bytes], PageFile | None]] = []
        self._pool: ThreadPoolExecutor | None = None
        self._done: list[Future[list[tuple[str, PageFile]]]] = []

    def add(self, path: str, parts: list[bytes], old: PageFile | None) -> None:
        self.count += 1
        self._batch.append((path, parts, old))
        if len(self._batch) >= PAGE_BATCH:
            self._submit()

    def finish(self) -> dict[str, PageFile]:
        """Every page added, by path."""
        self._submit()
        files: dict[str, PageFile] = {}
        for future in self._done:
            files.update(future.result())
        if self._pool is not None:
            self._pool.shutdown()
        return files

    def _submit(self) -> None:
        if not self._batch:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)
        self._done.append(self._pool.submit(self._pack, self._batch))
        self._batch = []

    def _pack(self, batch: list[tuple[str, list[bytes], PageFile | None]]) -> list[tuple[str, PageFile]]:
        made = []
        for path, parts, old in batch:
            body = b"".join(parts)
            etag = digest(body)[:32]  # zlib and sha256 let other threads run
            if old is not None and old.etag == etag:
                made.append((path, old))
            else:
                made.append((path, PageFile(self.compressor.parts(parts), len(body), etag, self.stamp)))
        return made


class PageMemo:
    """Makes a catalog's pages, again only where their posts changed; the builder owns it.

    ``last`` holds the pages of the last update. Without ``templates`` it makes
    none (a builder that serves nothing). ``rendered`` counts the pages
    rendered so far (a request never renders one).
    """

    def __init__(self, settings: Settings, templates: Mapping[str, str] | None) -> None:
        self.settings = settings
        self.renderer = PageRenderer(templates, settings) if templates is not None else None
        self.compressor = Compressor(size=200_000)  # every post's excerpt, in every page of its archives
        self._excerpts: dict[Post, bytes] = {}
        self._names: tuple[tuple[str, str], ...] = ()  # the category names excerpts and post pages were made with
        self._archives: dict[str, _Made] = {}
        self._posts: dict[str, tuple[Post, PageFile]] = {}
        self.last = NO_PAGES
        self.not_found: PageFile | None = None  # made by the first reload (it shows no post)
        self.rendered = 0

    def update(self, catalog: Catalog, now: datetime) -> Pages:
        """The pages of a catalog: the last reload's where nothing they show changed, the others made now."""
        renderer = self.renderer
        if renderer is None:
            return self.last
        names = catalog.category_names()
        if names != self._names:  # a renamed category is in excerpts and post pages everywhere (rare)
            self._excerpts, self._posts, self._archives, self._names = {}, {}, {}, names
        packer = _Packer(self.compressor, now.timestamp())
        if self.not_found is None:
            packer.add("", [renderer.not_found()], None)
        made = {
            a.base: self._archive(renderer, a, catalog, packer) for a in archives(catalog, self.settings.site_title)
        }
        posts, fresh = self._post_pages(renderer, catalog, packer)
        files = packer.finish()
        self.rendered += packer.count
        self.not_found = files.pop("", self.not_found)
        unchanged = not files and made.keys() == self._archives.keys() and posts.keys() == self._posts.keys()
        self._archives, self._posts = made, posts
        if unchanged:
            return self.last
        for archive in made.values():
            if len(archive.files) < len(archive.keys):
                archive.files.update((path, files[path]) for path in archive.keys if path not in archive.files)
        posts.update((slug, (post, files[post_path(post)])) for slug, post in fresh.items())
        by_path = {path: f for m in made.values() for path, f in m.files.items()}
        by_path.update((post_path(post), f) for post, f in posts.values())
        self.last = Pages(by_path, self.not_found)
        if len(self._excerpts) > 2 * len(catalog.posts) + 100:
            self._excerpts = {p: e for p, e in self._excerpts.items() if catalog.by_slug.get(p.slug) is p}
        return self.last

    def _archive(self, renderer: PageRenderer, archive: Archive, catalog: Catalog, packer: _Packer) -> _Made:
        """One archive's pages: the last ones when nothing it shows changed, else paged and compared page by page.

        A page to make is handed to the packer.
        """
        listing: Directory = directory(catalog) if archive.kind == HOME else ()
        key = (archive.kind, archive.slug, archive.name, archive.posts, listing)
        known = self._archives.get(archive.base)
        if known is not None and known.key == key:
            return known
        old = known if known is not None else _Made((), {}, {})
        made = _Made(key, {}, {})
        for spec in paged(archive, self.settings.page_size):
            shown = listing if spec.page == 1 else ()
            made.keys[spec.path] = page_key = (archive.name, spec.posts, spec.page, spec.pages, shown)
            if old.keys.get(spec.path) == page_key:
                made.files[spec.path] = old.files[spec.path]
                continue
            excerpts = [self._excerpt(renderer, post, catalog) for post in spec.posts]
            packer.add(spec.path, renderer.archive_parts(spec, excerpts, shown), old.files.get(spec.path))
        return made

    def _post_pages(
        self, renderer: PageRenderer, catalog: Catalog, packer: _Packer
    ) -> tuple[dict[str, tuple[Post, PageFile]], dict[str, Post]]:
        """Each post's page: the last one while the post is the same; the others handed to the packer."""
        posts: dict[str, tuple[Post, PageFile]] = {}
        fresh: dict[str, Post] = {}
        known = self._posts
        for post in catalog.posts:
            previous = known.get(post.slug)
            if previous is not None and previous[0] is post:
                posts[post.slug] = previous
                continue
            page = renderer.post_page(post, catalog.labels(post))
            packer.add(post_path(post), [page], previous[1] if previous is not None else None)
            fresh[post.slug] = post
        return posts, fresh

    def _excerpt(self, renderer: PageRenderer, post: Post, catalog: Catalog) -> bytes:
        blob = self._excerpts.get(post)
        if blob is None:
            blob = self._excerpts[post] = renderer.excerpt(post, catalog.labels(post))
        return blob
