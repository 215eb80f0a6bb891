"""Run one load: posts -> catalog -> feeds -> files, and hold the Snapshot that is served.

A reload builds the whole new Snapshot in memory, writes the feed files that
changed, then publishes the Snapshot by assigning one attribute.
"""

from __future__ import annotations

import gc
import itertools
import logging
import operator
import threading
import time
from collections.abc import Collection
from collections.abc import Iterable
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from syndicator.catalog import Catalog
from syndicator.config import Settings
from syndicator.feeds import FeedSpec
from syndicator.feeds import feed_specs
from syndicator.feeds import prerender
from syndicator.feeds import render_opml
from syndicator.feeds import render_spec_parts
from syndicator.feeds import spec_digest
from syndicator.feeds import spec_key
from syndicator.feeds import spec_paths
from syndicator.ledger import LEDGER_FILE
from syndicator.ledger import Record
from syndicator.ledger import adopt
from syndicator.ledger import assign_ids
from syndicator.ledger import dumps
from syndicator.ledger import loads
from syndicator.ledger import record
from syndicator.ledger import recover_ids
from syndicator.ledger import redirects
from syndicator.model import LoadProblem
from syndicator.model import Post
from syndicator.output import FeedFile
from syndicator.output import compress_all
from syndicator.output import etag_of
from syndicator.output import prune
from syndicator.output import write_atomic
from syndicator.output import write_changed
from syndicator.posts import POSTS_CACHE_FILE
from syndicator.posts import PostCache
from syndicator.posts import Progress
from syndicator.records import FEEDS_STATE_FILE
from syndicator.records import FOLDERS_FILE
from syndicator.records import STAMP_FILE
from syndicator.records import FeedRecord
from syndicator.records import Stamp
from syndicator.records import dump_folders
from syndicator.records import dump_records
from syndicator.records import intact
from syndicator.records import read_folders
from syndicator.records import read_records
from syndicator.records import stamp_document

logger = logging.getLogger(__name__)

FEEDS_PREFIX = "/feeds/"
RENDER_BATCH = 64  # feed specs rendered, compressed and written together


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


PRIVATE_PROBLEM = "a draft has a problem (syndicator check lists it)"
SERVER_PROBLEM = "a state file has a problem (the server log names it)"


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


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a request needs, immutable: the catalog and every feed by URL path."""

    catalog: Catalog
    files: dict[str, FeedFile]
    report: BuildReport
    redirects: dict[str, str]  # old post slug -> current slug


class LedgerError(Exception):
    """The ledger is gone and the ids already published cannot be read back from output_dir."""


def read_ledger(settings: Settings) -> tuple[dict[str, Record], LoadProblem | None, dict[str, str]]:
    """The ledger in state_dir, a warning, and the published ids recovered when it is missing or unreadable.

    Without a ledger, the ids the feeds in output_dir carry (the site-wide feed
    and its archive pages hold every published post) are taken back by slug, so
    that readers see no duplicates; raise LedgerError when those feeds exist but
    cannot be read.
    """
    path = settings.state_dir / LEDGER_FILE
    try:
        return loads(path.read_bytes()), None, {}
    except FileNotFoundError:
        reason = "missing"
    except (OSError, ValueError, KeyError, AttributeError) as exc:
        reason = f"unreadable ({exc})"
    recovered = recover_published_ids(settings.output_dir)
    if reason == "missing" and not recovered:
        return {}, None, {}
    logger.warning("ledger %s path=%s recovered_ids=%d", reason, path, len(recovered))
    message = f"ledger {reason}; {len(recovered)} published ids recovered from the feeds in output_dir"
    return {}, LoadProblem(str(path), 1, message, fatal=False), recovered


def recover_published_ids(output_dir: Path) -> dict[str, str]:
    """Post slug -> id as published in output_dir's site-wide Atom feed and its archive pages (none: no feed)."""
    feed = output_dir / "all.atom"
    if not feed.is_file():
        return {}
    files = [feed, *sorted((output_dir / "archive").glob("*.atom"))]
    try:
        return recover_ids(file.read_bytes() for file in files)
    except (OSError, ValueError) as exc:
        raise LedgerError(
            f"the id ledger is missing and the ids published in {output_dir} cannot be read back ({exc}): "
            "restore state_dir, or empty output_dir to publish every post under a new id"
        ) from exc


@dataclass(frozen=True, slots=True)
class Assigned:
    """One reload's posts as the cache gave them (``loaded``) and with their published ids (``posts``)."""

    loaded: list[Post]
    posts: list[Post]
    warnings: list[LoadProblem]


def assign_changed(
    last: Assigned | None, loaded: list[Post], ledger: dict[str, Record]
) -> tuple[Assigned, list[tuple[Post, Post]] | None]:
    """Give posts their published ids, and say which posts were edited: (old, new) pairs, or None.

    None means files were added, removed or reordered since ``last``. The cache
    hands back the very same Post for an unchanged file, so edits are found by
    identity, position by position, and only edited posts are looked up in the
    ledger (which only changes for edited or new posts).
    """
    if last is not None and len(last.loaded) == len(loaded):
        changed = list(itertools.compress(range(len(loaded)), map(operator.is_not, last.loaded, loaded)))
        if all(last.loaded[i].source == loaded[i].source for i in changed):
            fresh, warnings = assign_ids([loaded[i] for i in changed], ledger)
            posts = list(last.posts)
            edits = []
            for i, post in zip(changed, fresh, strict=True):
                edits.append((posts[i], post))
                posts[i] = post
            edited = {loaded[i].path for i in changed}
            warnings = [w for w in last.warnings if w.path not in edited] + warnings
            return Assigned(loaded, posts, warnings), edits
    posts, warnings = assign_ids(loaded, ledger)
    return Assigned(loaded, posts, warnings), None


@dataclass(frozen=True, slots=True)
class Written:
    """What write_batch did with a batch of files."""

    states: dict[str, tuple[int, int]]  # every file and its .gz: (size, mtime_ns) on disk
    etags: dict[str, str]
    zipped: dict[str, bytes]
    changed: list[str]  # the paths (and .gz) actually rewritten


def write_batch(
    out_dir: Path,
    fresh: dict[str, bytes],
    parts: dict[str, list[bytes]],
    known: dict[str, bytes] | None,
    created: set[str] | None = None,
) -> Written:
    """gzip, hash and write a batch of rendered files (those whose bytes changed); ``parts`` they are joined from.

    Folders made for them are added to ``created``.
    """
    zipped = compress_all(parts)
    etags = {path: etag_of(body) for path, body in fresh.items()}
    states, changed = write_changed(out_dir, {**fresh, **{f"{p}.gz": z for p, z in zipped.items()}}, known, created)
    return Written(states, etags, zipped, changed)


class Builder:
    """Owns the post cache and the current Snapshot; the only writer of output_dir.

    ``serving`` keeps every feed's bytes in memory for the web app; a one-off
    build does without them.
    """

    def __init__(self, settings: Settings, *, serving: bool = True) -> None:
        self.settings = settings
        self.serving = serving
        self.cache = PostCache(settings)
        self.cache.load(settings.state_dir / POSTS_CACHE_FILE)
        self.snapshot: Snapshot | None = None
        self.last_error: str | None = None
        self._lock = threading.Lock()
        self.ledger, self._ledger_problem, self._recovered = read_ledger(settings)
        self._records = read_records(settings.state_dir / FEEDS_STATE_FILE)
        self._folders = read_folders(settings.state_dir / FOLDERS_FILE)  # the folders of output_dir we created
        self._keys: dict[str, tuple[object, ...]] = {}
        self._files: dict[str, FeedFile] = {}
        self._kept: set[str] = set()  # the feed files of the last reload, to prune only when that set changes
        self._published: tuple[Assigned, Catalog] | None = None  # the last reload's posts and their catalog
        self._out_dir = f"{settings.output_dir}/"
        self._layout: tuple[tuple[str, ...], set[str], tuple[str, ...], frozenset[str]] | None = None
        self._redirects: tuple[dict[str, Record], dict[str, str]] | None = None

    def reload(
        self, now: datetime, progress: Progress | None = None, changed: Collection[str] | None = None
    ) -> BuildReport:
        """Load what changed, render the feeds whose posts changed, write them, publish the new Snapshot.

        ``progress(stage, done, total)`` is told how a long load goes. ``changed``
        names the only post files that may have changed (from a watcher); None
        looks at every file.
        """
        with self._lock:
            return self._reload(now, progress, changed)

    def save_cache(self) -> None:
        """Keep the parsed posts under state_dir, so that the next process starts warm."""
        with self._lock:
            self.cache.save(self.settings.state_dir / POSTS_CACHE_FILE)

    def save_stamp(self) -> None:
        """Mark the last reload as a complete build, so that a run finding nothing changed can stop early."""
        with self._lock:
            if self.snapshot is None:
                return
            report = self.snapshot.report
            stamp = Stamp(len(report.feeds), report.posts, report.categories, report.problems)
            document = stamp_document(self.settings, self.cache.states(), report.next_publish_at, stamp)
            write_atomic(self.settings.state_dir / STAMP_FILE, document)

    def _known(self, fresh: dict[str, bytes]) -> dict[str, bytes] | None:
        """The bytes of these files that are on disk and in memory (saves reading them back to compare)."""
        if not self.serving:
            return None
        return {p: f.body for p in fresh if (f := self._files.get(FEEDS_PREFIX + p)) and not f.on_disk}

    def _feed_file(self, spec: FeedSpec, path: str, body: bytes, written: Written) -> FeedFile:
        """How a freshly written file is served: from memory, or (an archive page) from its file."""
        long_lived = spec.is_full_archive
        last_modified = written.states[path][1] / 1e9
        etag = written.etags[path]
        previous = self._files.get(FEEDS_PREFIX + path)
        if previous is not None and previous.etag == etag and previous.last_modified == last_modified:
            return previous
        if spec.is_archive or not self.serving:
            return FeedFile.stored(path, etag, last_modified, long_lived=long_lived)
        return FeedFile.make(path, body, last_modified, written.zipped[path], long_lived=long_lived, etag=etag)

    def _stored_feed_file(self, spec: FeedSpec, path: str, record_: FeedRecord) -> FeedFile:
        """A file that is current on disk, for serving (read into memory unless it is an archive page)."""
        _size, mtime_ns, etag = record_.files[path]
        long_lived = spec.is_full_archive
        if spec.is_archive or not self.serving:
            return FeedFile.stored(path, etag, mtime_ns / 1e9, long_lived=long_lived)
        out_dir = self.settings.output_dir
        body = (out_dir / path).read_bytes()
        return FeedFile.make(path, body, mtime_ns / 1e9, (out_dir / f"{path}.gz").read_bytes())

    def _written_before(self) -> set[str]:
        """Every file the last build recorded writing (only those may ever be pruned)."""
        return {path for record in self._records.values() for path in record.files} | {"index.opml", "index.opml.gz"}

    def _intact(self, record: FeedRecord | None) -> bool:
        return record is not None and intact(self._out_dir, record)

    def _file_layout(self, specs: list[FeedSpec]) -> tuple[set[str], tuple[str, ...], frozenset[str]]:
        """Every file (with its .gz), the feed files, and the hub topics of these specs (reused while they hold)."""
        stems = tuple(spec.stem for spec in specs)
        if self._layout is None or self._layout[0] != stems:
            keep = {path + gz for spec in specs for path in spec_paths(spec) for gz in ("", ".gz")}
            keep |= {"index.opml", "index.opml.gz"}
            feeds = tuple(sorted(p for p in keep if not p.endswith(".gz")))
            topics = frozenset(p for spec in specs if not spec.is_archive for p in spec_paths(spec))
            self._layout = (stems, keep, feeds, topics)
        return self._layout[1], self._layout[2], self._layout[3]

    def _select(
        self, specs: list[FeedSpec], catalog: Catalog, progress: Progress | None
    ) -> tuple[dict[str, tuple[object, ...]], dict[str, str], list[FeedSpec], list[FeedSpec]]:
        """Each feed's key; then the feeds to render (with their digests) and those current on disk only.

        A feed whose key (in memory) or digest (recorded in state_dir) is the
        last one's, and whose files are intact, is not rendered.
        """
        keys: dict[str, tuple[object, ...]] = {}
        digests: dict[str, str] = {}
        to_render: list[FeedSpec] = []
        current: list[FeedSpec] = []  # unchanged since the last run, but not in memory yet
        for done, spec in enumerate(specs):
            if progress is not None and done % 10 == 0:
                progress("rendering feeds", done, len(specs))
            key = keys[spec.stem] = spec_key(spec, catalog)
            record_ = self._records.get(spec.stem)
            if self._keys.get(spec.stem) == key and self._intact(record_):
                continue
            digest = spec_digest(spec, catalog, self.settings)
            if record_ is not None and record_.digest == digest and self._intact(record_):
                current.append(spec)
                continue
            digests[spec.stem] = digest
            to_render.append(spec)
        return keys, digests, to_render, current

    def _render_and_write(
        self,
        to_render: list[FeedSpec],
        digests: dict[str, str],
        catalog: Catalog,
        records: dict[str, FeedRecord],
        files: dict[str, FeedFile],
        written: list[str],
        progress: Progress | None,
    ) -> None:
        """Render, gzip and write these feeds, filling in their records and served files.

        In batches, so that a large blog's archives never sit in memory at once.
        A writer thread gzips, hashes and writes one batch while this thread
        renders the next (zlib, hashlib and file writes release the GIL: the
        second core does them).
        """
        prerender(to_render, catalog, self.settings)  # before the writer thread: it may fork

        def finish(batch: list[FeedSpec], fresh: dict[str, bytes], done: Written) -> None:
            written.extend(done.changed)
            for spec in batch:
                paths = spec_paths(spec)
                entries = {p: (*done.states[p], done.etags[p]) for p in paths}
                entries |= {f"{p}.gz": (*done.states[f"{p}.gz"], "") for p in paths}
                records[spec.stem] = FeedRecord(digests[spec.stem], entries)
                for path in paths:
                    files[FEEDS_PREFIX + path] = self._feed_file(spec, path, fresh[path], done)

        out_dir = self.settings.output_dir
        with ThreadPoolExecutor(max_workers=1) as writer:
            pending: tuple[list[FeedSpec], dict[str, bytes], Future[Written]] | None = None
            for start in range(0, len(to_render), RENDER_BATCH):
                batch = to_render[start : start + RENDER_BATCH]
                parts: dict[str, list[bytes]] = {}
                for spec in batch:
                    parts.update(render_spec_parts(spec, catalog, self.settings))
                fresh = {path: b"".join(chunks) for path, chunks in parts.items()}
                future = writer.submit(write_batch, out_dir, fresh, parts, self._known(fresh), self._folders)
                if pending is not None:
                    finish(pending[0], pending[1], pending[2].result())
                pending = (batch, fresh, future)
                if progress is not None:
                    progress("writing feeds", min(start + RENDER_BATCH, len(to_render)), len(to_render))
            if pending is not None:
                finish(pending[0], pending[1], pending[2].result())

    def _reload(self, now: datetime, progress: Progress | None, changed: Collection[str] | None) -> BuildReport:
        started = time.perf_counter()
        parsed_before = self.cache.parsed
        loaded, problems = self.cache.refresh(progress, changed)
        if self._recovered:
            self.ledger = adopt(self.ledger, loaded, self._recovered)
        assigned, edits = assign_changed(self._published[0] if self._published else None, loaded, self.ledger)
        posts = assigned.posts
        problems.extend(assigned.warnings)
        catalog = None
        if self._published is not None and edits is not None:
            catalog = self._published[1].with_edits(edits, now)
        if catalog is None:
            catalog = Catalog.build(posts, now)
            to_record: Iterable[Post] = catalog.posts
        else:  # the same posts are published as last time, which recorded them all: only edits can differ
            to_record = [new for _old, new in edits or () if catalog.by_slug.get(new.slug) is new]
        problems.extend(catalog.problems)
        if self._ledger_problem is not None:
            problems.append(self._ledger_problem)
        ledger = record(self.ledger, to_record)

        specs = feed_specs(catalog, self.settings)
        keys, digests, to_render, current = self._select(specs, catalog, progress)
        records = {stem: r for stem, r in self._records.items() if stem in keys}
        files = dict(self._files)
        written: list[str] = []
        self._render_and_write(to_render, digests, catalog, records, files, written, progress)
        out_dir = self.settings.output_dir
        opml = {"index.opml": render_opml(specs, self.settings)}
        index = write_batch(
            out_dir, opml, {path: [body] for path, body in opml.items()}, self._known(opml), self._folders
        )
        written.extend(index.changed)
        files[FEEDS_PREFIX + "index.opml"] = FeedFile.make(
            "index.opml", opml["index.opml"], index.states["index.opml"][1] / 1e9, index.zipped["index.opml"]
        )
        for spec in current:
            for path in spec_paths(spec):
                if FEEDS_PREFIX + path not in files:
                    files[FEEDS_PREFIX + path] = self._stored_feed_file(spec, path, records[spec.stem])

        keep, feeds, topics = self._file_layout(specs)
        folders_before = set(self._folders)
        removed = prune(out_dir, self._written_before(), keep, self._folders) if keep != self._kept else []
        self._kept = keep
        state_dir = self.settings.state_dir
        if self._folders != folders_before:
            write_atomic(state_dir / FOLDERS_FILE, dump_folders(self._folders))
        if records != self._records:
            write_atomic(state_dir / FEEDS_STATE_FILE, dump_records(records))
        if ledger != self.ledger or self._ledger_problem is not None:
            write_atomic(state_dir / LEDGER_FILE, dumps(ledger))
        self._records, self._keys = records, keys
        self.ledger, self._ledger_problem, self._recovered = ledger, None, {}
        if len(files) != len(keep) // 2:
            files = {url: f for url, f in files.items() if url.removeprefix(FEEDS_PREFIX) in keep}
        if self.serving:
            self._files = files
        else:
            files = {}

        report = BuildReport(
            posts=len(catalog.posts),
            categories=len(catalog.categories),
            problems=tuple(sorted(problems, key=lambda p: (p.path, p.line, p.message))),
            loaded_at=now,
            next_publish_at=catalog.next_publish_at,
            feeds=feeds,
            topics=topics,
            written=tuple(sorted(p for p in written if not p.endswith(".gz"))),
            removed=tuple(p for p in removed if not p.endswith(".gz")),
            parsed=self.cache.parsed - parsed_before,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
            public_problems=public_problems(sorted(problems, key=lambda p: (p.path, p.line, p.message)), self.settings),
        )
        if self._redirects is None or self._redirects[0] is not ledger:
            self._redirects = (ledger, redirects(ledger))
        self.snapshot = Snapshot(catalog=catalog, files=files, report=report, redirects=self._redirects[1])
        self._published = (assigned, catalog)
        gc.collect(1)
        gc.freeze()  # the snapshot lives on: keep it out of the full collections (tens of ms at 10,000 posts)
        self.last_error = None
        logger.info(
            "reloaded posts=%d categories=%d parsed=%d written=%d removed=%d problems=%d last_reload_ms=%.1f",
            report.posts,
            report.categories,
            report.parsed,
            len(report.written),
            len(report.removed),
            len(report.problems),
            report.duration_ms,
        )
        return report
