"""The HTML pages of a reload: rendered once, only those whose posts changed, kept gzipped with their ETags.

A post's excerpt is rendered once and joined into every archive page that
lists it, as feed entries are. An archive whose posts tuple, name and category
names are the last reload's keeps all its pages; otherwise each of its pages is
compared with the last one at its address, and only a page whose posts changed
is joined again (its frame, the head and tail around the excerpts, is rendered
again only when its number or the number of pages changed). A page made again
with the same bytes keeps its ETag and Last-Modified.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import TYPE_CHECKING

from syndicator.config import Settings
from syndicator.core.cachekeys import page_keys
from syndicator.core.cachekeys import post_page_keys
from syndicator.core.cachekeys import site_page_keys
from syndicator.core.catalog import Catalog
from syndicator.core.pageplan import Archive
from syndicator.core.pageplan import Directory
from syndicator.core.pageplan import archives
from syndicator.core.pageplan import directory
from syndicator.core.pageplan import paged
from syndicator.core.urls import HOME
from syndicator.core.urls import post_path
from syndicator.incremental.changes import edited_in_place
from syndicator.incremental.gzip import compress
from syndicator.model import Post
from syndicator.problem import LoadProblem
from syndicator.served import Served
from syndicator.served import etag_of

if TYPE_CHECKING:  # given one by a server's output (a one-off build makes no page: no Jinja imported)
    from syndicator.core.pagerender import PageRenderer

logger = logging.getLogger(__name__)
_PostPages = dict[str, tuple[Post, Served]]  # each post's page (and each page) by path, with the post it shows
PAGE_BATCH = 256  # pages gzipped and hashed together (bounds the bytes held at once on a cold start)


@dataclass(frozen=True, slots=True)
class Pages:
    """Every page of a reload by URL path (``/``, ``/category/x/page/2/``, ``/posts/x/``, ``/about/``), and the 404
    page."""

    by_path: dict[str, Served] = field(default_factory=dict)  # never changed once published
    not_found: Served | None = None


NO_PAGES = Pages()


@dataclass(frozen=True, slots=True)
class _Made:
    """An archive's pages as last made, by path: each page's key, frame (with its key) and file.

    The files of pages being made join ``files`` when they are packed.
    """

    shows: tuple[object, ...]  # what its frames show (none before it is first made)
    posts: tuple[Post, ...]
    keys: dict[str, tuple[object, ...]]
    frames: dict[str, tuple[tuple[object, ...], bytes, bytes]]
    files: dict[str, Served]


_NOTHING_MADE = _Made((), (), {}, {}, {})


class _Packer:
    """gzips and hashes rendered pages on other threads while this one renders the next ones.

    A page whose bytes are its old file's keeps that file (its ETag and Last-Modified).
    """

    def __init__(self, stamp: float) -> None:
        self.stamp = stamp
        self.count = 0
        self._batch: list[tuple[str, list[bytes], Served | None, tuple[str, ...]]] = []
        self._pool: ThreadPoolExecutor | None = None
        self._done: list[Future[list[tuple[str, Served]]]] = []

    def add(self, path: str, parts: list[bytes], old: Served | None, keys: tuple[str, ...] = ()) -> None:
        """A page to pack: its path, the parts its bytes join, its last file, its cache keys."""
        self.count += 1
        self._batch.append((path, parts, old, keys))
        if len(self._batch) >= PAGE_BATCH:
            self._submit()

    def finish(self) -> dict[str, Served]:
        """Every page added, by path."""
        files: dict[str, Served] = {}
        try:
            self._submit()
            for future in self._done:
                files.update(future.result())
        finally:
            if self._pool is not None:
                self._pool.shutdown(cancel_futures=True)
        return files

    def _submit(self) -> None:
        if not self._batch:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)
        self._done.append(self._pool.submit(self._pack, self._batch))
        self._batch = []

    def _pack(self, batch: list[tuple[str, list[bytes], Served | None, tuple[str, ...]]]) -> list[tuple[str, Served]]:
        """Each page gzipped whole (a fifth smaller than joining its excerpts' own deflate segments)."""
        made = []
        for path, parts, old, keys in batch:
            body = b"".join(parts)
            etag = etag_of(body)  # the hash and the deflate let other threads run
            if old is not None and old.etag == etag:
                made.append((path, old))
            else:
                made.append((path, Served.gzip_only(compress(body), len(body), etag, self.stamp, keys=keys)))
        return made


class PageMemo:
    """Makes a catalog's pages, again only where their posts changed; the builder owns it.

    ``last`` holds the pages of the last update. Without a ``renderer`` it
    makes none (a builder that serves nothing). ``rendered`` counts the pages made
    so far (a request never makes one).
    """

    def __init__(self, settings: Settings, renderer: PageRenderer | None) -> None:
        self.settings = settings
        self.renderer = renderer
        self._excerpts: dict[Post, bytes] = {}
        self._names: tuple[tuple[str, str], ...] = ()  # the category names excerpts and post pages were made with
        self._archives: dict[str, _Made] = {}
        self._posts: _PostPages = {}
        self._around: dict[str, tuple[tuple[str, str] | None, ...]] = {}  # what a post page shows of its neighbours
        self._listed: tuple[Post, ...] | None = None  # the posts of the last update, newest first
        self._page_paths: set[str] = set()  # the paths of its pages (type: page)
        self.last = NO_PAGES
        self.not_found: Served | None = None  # made by the first update (it shows no post)
        self.rendered = 0

    def update(self, catalog: Catalog, now: datetime) -> Pages:
        """The pages of a catalog: the last update's where nothing they show changed, the others made now."""
        renderer = self.renderer
        if renderer is None:
            return self.last
        names = catalog.category_names()
        if names != self._names:  # a renamed category is in excerpts and post pages everywhere (rare)
            self._excerpts, self._posts, self._archives, self._names = {}, {}, {}, names
            self._listed = None
        packer = _Packer(now.timestamp())
        if self.not_found is None:
            packer.add("", [renderer.not_found()], None)
        listings = archives(catalog, self.settings.site_title, self.settings.categories)
        made = {archive.base: self._archive(renderer, archive, catalog, packer) for archive in listings}
        posts, fresh = self._post_pages(renderer, catalog, packer)
        files = packer.finish()
        self.rendered += packer.count
        self.not_found = files.pop("", self.not_found)
        for archive in made.values():
            if len(archive.files) < len(archive.keys):
                archive.files.update((path, files[path]) for path in archive.keys if path not in archive.files)
        posts.update((path, (post, files[path])) for path, post in fresh.items())
        if _same_addresses(made, posts, self._archives, self._posts):  # usual: some pages changed, none came or went
            by_path = dict(self.last.by_path) if files else self.last.by_path
            by_path.update(files)
        else:
            by_path = {path: f for m in made.values() for path, f in m.files.items()}
            by_path.update((path, f) for path, (_post, f) in posts.items())
        self._archives, self._posts = made, posts
        if by_path is not self.last.by_path or self.last.not_found is not self.not_found:
            self.last = Pages(by_path, self.not_found)
        if len(self._excerpts) > 2 * len(catalog.posts) + 100:
            self._excerpts = {p: e for p, e in self._excerpts.items() if catalog.by_slug.get(p.slug) is p}
        for problem in renderer.failed.settle(lambda: {post.path for post in catalog.with_pages} | by_path.keys()):
            logger.warning("theme failed path=%s line=%s reason=%s", problem.path, problem.line, problem.message)
        return self.last

    def problems(self) -> list[LoadProblem]:
        """Where the theme's templates failed on the pages served now, each drawn with the package's instead."""
        return self.renderer.failed.problems() if self.renderer is not None else []

    def _archive(self, renderer: PageRenderer, archive: Archive, catalog: Catalog, packer: _Packer) -> _Made:
        """One archive's pages: the last ones when nothing it shows changed, else paged and compared page by page
        (only the pages holding posts edited in place, when that is the change). A page whose posts changed is joined
        again from its frame (kept while its number, the number of pages and the heading stay) and its posts'
        excerpts, and handed to the packer."""
        listing: Directory = directory(catalog) if archive.kind == HOME else ()
        shows = (archive.kind, archive.slug, archive.name, archive.description, listing)
        old = self._archives.get(archive.base, _NOTHING_MADE)
        if old.shows == shows and old.posts == archive.posts:
            return old
        edited = edited_in_place(old.posts, archive.posts) if old.shows == shows else None
        if edited is None:
            made, specs = _Made(shows, archive.posts, {}, {}, {}), paged(archive, self.settings.page_size)
        else:  # the other pages, their frames and files stay as they were
            made = _Made(shows, archive.posts, dict(old.keys), dict(old.frames), dict(old.files))
            specs = paged(archive, self.settings.page_size, holding=edited)
        for spec in specs:
            path, shown = spec.path, listing if spec.page == 1 else ()
            frame_key = (archive.name, archive.description, spec.page, spec.pages, not spec.posts, shown)
            made.keys[path] = page_key = (frame_key, spec.posts)
            frame = old.frames.get(path)
            if frame is None or frame[0] != frame_key:
                frame = (frame_key, *renderer.archive_frame(spec, shown))
            made.frames[path] = frame
            if old.keys.get(path) == page_key:
                made.files[path] = old.files[path]
                continue
            made.files.pop(path, None)  # joins them when packed
            parts = [frame[1], *(self._excerpt(renderer, post, catalog) for post in spec.posts), frame[2]]
            packer.add(path, parts, old.files.get(path), page_keys(archive.feed_stem, spec.posts))
        return made

    def _post_pages(
        self, renderer: PageRenderer, catalog: Catalog, packer: _Packer
    ) -> tuple[_PostPages, dict[str, Post]]:
        """Each post's page and each page (``type: page``) by URL path: the last one while the post is the same; the
        others handed to the packer. When the posts are the last update's but for some edited in place, only
        theirs and their neighbours' pages are looked at (a neighbour shows an edited post's title)."""
        listed = catalog.posts  # newest first: a post's newer neighbour is before it, its older one after it
        known = self._posts
        edited = edited_in_place(self._listed, listed)
        indices: Iterable[int]
        if edited is None:  # posts came, went or moved: every post's page is looked at
            posts: _PostPages = {}
            around, self._around = self._around, {}
            indices = range(len(listed))
        else:
            posts = dict(known)
            for path in self._page_paths:
                del posts[path]
            around = self._around
            nearby = {near for index in edited for near in (index - 1, index, index + 1)}
            indices = sorted(near for near in nearby if 0 <= near < len(listed))
        fresh: dict[str, Post] = {}
        for index in indices:
            post = listed[index]
            newer = listed[index - 1] if index > 0 else None
            older = listed[index + 1] if index + 1 < len(listed) else None
            path = post_path(post.slug)
            shown = (_link_of(newer), _link_of(older))
            previous = known.get(path)
            same = previous is not None and previous[0] is post and around.get(path) == shown
            self._around[path] = shown
            if same and previous is not None:
                posts[path] = previous
                continue
            page = renderer.post_page(post, catalog.labels(post), older=older, newer=newer)
            packer.add(path, [page], previous[1] if previous is not None else None, post_page_keys(post))
            fresh[path] = post
        for path, page_post in catalog.pages.items():  # pages (type: page): no neighbours
            previous = known.get(path)
            if previous is not None and previous[0] is page_post:
                posts[path] = previous
                continue
            old = previous[1] if previous is not None else None
            packer.add(path, [renderer.site_page(page_post)], old, site_page_keys(path, page_post))
            fresh[path] = page_post
        self._listed, self._page_paths = listed, set(catalog.pages)
        return posts, fresh

    def _excerpt(self, renderer: PageRenderer, post: Post, catalog: Catalog) -> bytes:
        blob = self._excerpts.get(post)
        if blob is None:
            blob = self._excerpts[post] = renderer.excerpt(post, catalog.labels(post))
        return blob


def _same_addresses(made: dict[str, _Made], posts: _PostPages, made_then: dict[str, _Made], then: _PostPages) -> bool:
    """Whether these pages have the last update's paths (same archives with as many pages, same posts)."""
    if made.keys() != made_then.keys() or posts.keys() != then.keys():
        return False
    return all(m is made_then[base] or len(m.keys) == len(made_then[base].keys) for base, m in made.items())


def _link_of(post: Post | None) -> tuple[str, str] | None:
    """What a post page shows of a neighbour in its previous/next links: its slug and title."""
    return None if post is None else (post.slug, post.title)
