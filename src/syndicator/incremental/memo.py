"""Memos the builder owns: each post's entries, each feed's paging, what a feed's bytes depend on, the OPML.

A post is in the site-wide feed, its categories', tags' and author's feeds and
all their archive pages: its entry is built once and joined into every
document, which is what makes complete archives affordable. Unchanged posts
are the same objects from one reload to the next, so most lookups compare by
identity.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter

from syndicator.config import Settings
from syndicator.core.catalog import Catalog
from syndicator.core.opml import opml
from syndicator.core.opml import opml_newest
from syndicator.core.plan import FeedGroup
from syndicator.core.plan import FeedSpec
from syndicator.core.plan import feed_groups
from syndicator.core.plan import served_paths
from syndicator.core.plan import topics
from syndicator.core.plan import with_archives
from syndicator.core.render import entry
from syndicator.core.render import formats_of
from syndicator.core.sitemap import FAVICON
from syndicator.core.sitemap import ROBOTS
from syndicator.core.sitemap import newest_update
from syndicator.core.sitemap import post_line
from syndicator.core.sitemap import robots_txt
from syndicator.core.sitemap import sitemap_files
from syndicator.core.urls import FEEDS_PREFIX
from syndicator.digest import digest_text
from syndicator.digest import hashed_fields
from syndicator.incremental.changes import edited_in_place
from syndicator.incremental.forked import Forked
from syndicator.incremental.forked import can_fork
from syndicator.model import Departed
from syndicator.model import Post
from syndicator.model import Tombstone

# Entries kept per format by a server, whose next reload renders the newest posts' feeds again; and by a build
# (the process that forks), whose feeds' RSS and JSON entries are met again soon after (in the post's other feeds,
# close in time order) and then never: 400 of those cost it 10% more of them made, where 2,000 cost 34 MB.
SERVING_SIZES = {"atom": 20_000, "rss": 2_000, "json": 2_000}
BUILD_SIZES = {"atom": 20_000, "rss": 400, "json": 400}


class EntryMemo:
    """Each post's serialized entry per format, the newest ``sizes[fmt]`` kept.

    Atom entries are in every archive page; RSS and JSON items only in the
    feeds' newest posts, so fewer of those are kept (and of a podcast's RSS
    items, which are few: episodes). A cold build's missing
    Atom entries are built half in a forked copy of the process when there are
    at least ``parallel_from`` of them (and they all fit).
    """

    def __init__(self, settings: Settings, sizes: dict[str, int] | None = None, *, parallel_from: int = 2000) -> None:
        self.settings = settings
        self.sizes = {"podcast": 2_000, **(sizes or SERVING_SIZES)}
        self.parallel_from = parallel_from
        self._blobs: dict[str, OrderedDict[tuple[Post, tuple[str, ...]], bytes]] = {
            f: OrderedDict() for f in self.sizes
        }

    def get(self, fmt: str, post: Post, labels: tuple[str, ...]) -> bytes:
        """A post's entry in one format (made now, or the one made before)."""
        blobs = self._blobs[fmt]
        key = (post, labels)
        blob = blobs.get(key)
        if blob is None:
            blob = blobs[key] = entry(fmt, post, labels, self.settings)
            if len(blobs) > self.sizes[fmt]:
                blobs.popitem(last=False)
        else:
            blobs.move_to_end(key)
        return blob

    def entries(self, spec: FeedSpec, catalog: Catalog) -> dict[str, list[bytes]]:
        """The entries a spec's documents need, per format, in the spec's order."""
        return {fmt: [self.get(fmt, post, catalog.labels(post)) for post in spec.posts] for fmt in formats_of(spec)}

    def prerender(self, specs: Sequence[FeedSpec], catalog: Catalog) -> None:
        """Build the Atom entries these feeds need and are not built yet, half of them in a forked copy."""
        atom = self._blobs["atom"]
        wanted: dict[Post, None] = {}
        for spec in specs:
            wanted.update(dict.fromkeys(spec.posts))
        missing = [post for post in wanted if (post, catalog.labels(post)) not in atom]
        if not (self.parallel_from <= len(missing) <= self.sizes["atom"]) or not can_fork():
            return
        half = len(missing) // 2
        theirs = missing[half:]
        child = Forked(lambda: [entry("atom", post, catalog.labels(post), self.settings) for post in theirs])
        for post in missing[:half]:
            self.get("atom", post, catalog.labels(post))
        for post, blob in zip(theirs, child.result(), strict=True):
            atom[(post, catalog.labels(post))] = blob


class PagingMemo:
    """Each feed's specs (with its archive pages), paged again only when its posts tuple or heading changed.

    A reload that edits one post keeps every other group's tuple: only the
    edited post's feeds are paged again. ``prefix``: the URL path the specs'
    files are served under (the partner feeds have their own).
    """

    def __init__(self, settings: Settings, prefix: str = FEEDS_PREFIX) -> None:
        self.settings = settings
        self.prefix = prefix
        self._pages: dict[str, tuple[FeedGroup, list[FeedSpec]]] = {}

    def specs(
        self,
        catalog: Catalog,
        tombstones: Mapping[str, tuple[Tombstone, ...]] | None = None,
        public: Catalog | None = None,
        departed: Mapping[str, tuple[Departed, ...]] | None = None,
    ) -> list[FeedSpec]:
        """Every feed's specs (``public``: the public catalog, for the partner feeds; see ``feed_groups``)."""
        specs: list[FeedSpec] = []
        pages: dict[str, tuple[FeedGroup, list[FeedSpec]]] = {}
        for group in feed_groups(catalog, self.settings, tombstones, public, departed):
            known = self._pages.get(group.stem)
            if known is None or not _same_group(known[0], group):
                known = (group, with_archives(group, self.settings, self.prefix))
            pages[group.stem] = known
            specs += known[1]
        self._pages = pages
        return specs


def _same_group(old: FeedGroup, new: FeedGroup) -> bool:
    """Whether a group is unchanged: its posts tuple the same object (cheap to tell), and every other field equal."""
    return old.posts is new.posts and old == new


@dataclass(frozen=True, slots=True)
class _Names:
    catalog: Catalog
    names: tuple[tuple[str, str], ...]


class Digests:
    """What a feed's bytes depend on: a key to compare in memory, and a digest that lasts across processes.

    ``fingerprint`` stands for the code and settings (new ones change every
    digest). A post's digest is computed once (it is in many feeds); while the
    category names stay the same, keys share one tuple of them, which then
    compares by identity.
    """

    def __init__(self, fingerprint: str, size: int = 80_000) -> None:
        self.fingerprint = fingerprint
        self.size = size
        # By the post's id: the post and its labels (the key of its digest, compared by identity first), the digest.
        self._posts: dict[int, tuple[Post, tuple[str, ...], str]] = {}
        self._names: _Names | None = None
        self._heads: dict[type, Callable[[FeedSpec], object]] = {}  # a spec type's getter of its hashed fields

    def _category_names(self, catalog: Catalog) -> tuple[tuple[str, str], ...]:
        if self._names is None or self._names.catalog is not catalog:
            names = catalog.category_names()
            if self._names is not None and self._names.names == names:
                names = self._names.names
            self._names = _Names(catalog, names)
        return self._names.names

    def key(self, spec: FeedSpec, catalog: Catalog) -> tuple[object, ...]:
        """Everything a feed's bytes depend on, cheap to compare (unchanged posts are the same objects).

        A change of any category's displayed name counts as a change of every feed (it is rare).
        """
        return (self._head(spec), spec.links, spec.posts, self._category_names(catalog))

    def _post(self, post: Post, catalog: Catalog) -> str:
        labels = catalog.labels(post)
        known = self._posts.get(id(post))
        if known is not None and known[0] is post and known[1] == labels:
            return known[2]
        if len(self._posts) > self.size + 2 * len(catalog.posts):  # old posts' digests, now and then
            self._posts.clear()
        digest = digest_text(post.digest, *labels)
        self._posts[id(post)] = (post, labels, digest)
        return digest

    def digest(self, spec: FeedSpec, catalog: Catalog) -> str:
        """A stable digest of everything a feed's bytes depend on, to recognise unchanged feeds across runs.

        Its own fields by their ``repr`` (strings, numbers, tombstones: the same in
        every process of this code, which ``fingerprint`` stands for).
        """
        posts = [self._post(post, catalog) for post in spec.posts]
        return digest_text(self.fingerprint, repr(self._head(spec)), repr(spec.links), *posts)

    def _head(self, spec: FeedSpec) -> object:
        """A spec's hashed fields (all but its posts and page count), as a tuple."""
        head = self._heads.get(type(spec))
        if head is None:
            head = self._heads[type(spec)] = attrgetter(*hashed_fields(spec))
        return head(spec)


class OpmlMemo:
    """The OPML, made again only when the feeds it lists or its date changed."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._last: tuple[tuple[object, ...], bytes] | None = None

    def render(self, specs: Sequence[FeedSpec]) -> bytes:
        listed = tuple((s.stem, s.title, s.page_url) for s in specs if not s.is_archive)
        key = (opml_newest(specs), listed)
        if self._last is None or self._last[0] != key:
            self._last = (key, opml(specs, self.settings))
        return self._last[1]


class SiteMemo:
    """The files of the site's root: the sitemap (its parts past its limit), robots.txt and the favicon.

    Made again only when the catalog is another one (a reload that changed nothing keeps its catalog), and
    then with the <url> lines of the posts that are the same objects as last time kept: only those of posts
    edited in place are made (or, when posts came or went, those of the posts not seen last time).
    """

    def __init__(self, settings: Settings, favicon: bytes) -> None:
        self.settings = settings
        self.favicon = favicon
        self._last: tuple[Catalog, dict[str, bytes]] | None = None
        self._posts: tuple[Post, ...] | None = None  # the last catalog's posts, and their lines
        self._lines: list[str] = []
        self._lastmods: dict[int, tuple[tuple[Post, ...], datetime]] = {}  # by id(): an archive's posts, its lastmod

    def files(self, catalog: Catalog) -> dict[str, bytes]:
        if self._last is None or self._last[0] is not catalog:
            known, self._lastmods = self._lastmods, {}
            lastmod = functools.partial(self._lastmod, known)
            made = sitemap_files(catalog, self.settings, post_lines=self._post_lines(catalog.posts), lastmod=lastmod)
            made |= {ROBOTS: robots_txt(self.settings), FAVICON: self.favicon}
            self._last = (catalog, made)
        return self._last[1]

    def _lastmod(self, known: dict[int, tuple[tuple[Post, ...], datetime]], posts: tuple[Post, ...]) -> datetime:
        """An archive's lastmod, kept while its posts are the same tuple (an edit rebuilds only its posts' groups)."""
        found = known.get(id(posts))
        when = found[1] if found is not None and found[0] is posts else newest_update(posts)
        self._lastmods[id(posts)] = (posts, when)
        return when

    def _post_lines(self, posts: tuple[Post, ...]) -> list[str]:
        edited = edited_in_place(self._posts, posts)
        if edited is not None:
            lines = list(self._lines)
            for index in edited:
                lines[index] = post_line(self.settings, posts[index])
        else:
            known = {id(post): (post, line) for post, line in zip(self._posts or (), self._lines, strict=True)}
            lines = []
            for post in posts:
                found = known.get(id(post))
                lines.append(found[1] if found is not None and found[0] is post else post_line(self.settings, post))
        self._posts, self._lines = posts, lines
        return lines


@dataclass(frozen=True, slots=True)
class Layout:
    """What the feed specs make on disk: every file (with its .gz), the feed files, the hub topics."""

    keep: set[str]
    feeds: tuple[str, ...]
    topics: frozenset[str]


class LayoutMemo:
    """The layout of the specs, made again only when the list of feeds changed."""

    def __init__(self) -> None:
        self._last: tuple[tuple[str, ...], Layout] | None = None

    def layout(self, specs: Sequence[FeedSpec]) -> Layout:
        stems = tuple(spec.stem for spec in specs)
        if self._last is None or self._last[0] != stems:
            keep = served_paths(specs)
            feeds = tuple(sorted(p for p in keep if not p.endswith(".gz")))
            self._last = (stems, Layout(keep, feeds, topics(specs)))
        return self._last[1]
