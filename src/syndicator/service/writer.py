"""Carry out a reload's plan: render the feeds that changed, gzip, hash and write them; hold them as the output says.

In batches, so that a large blog's archives never sit in memory at once; a
writer thread gzips, hashes and writes one batch while this thread renders the
next (the deflate, hashlib and file writes release the GIL: the second core does them).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field

from syndicator.config import Settings
from syndicator.core.catalog import Catalog
from syndicator.core.plan import FeedSpec
from syndicator.core.render import document_parts
from syndicator.core.render import formats_of
from syndicator.core.urls import FEEDS_PREFIX
from syndicator.core.urls import OPML
from syndicator.incremental.changes import Plan
from syndicator.incremental.forked import Forked
from syndicator.incremental.forked import can_fork
from syndicator.incremental.gzip import Compressor
from syndicator.incremental.gzip import kept_twins
from syndicator.incremental.memo import EntryMemo
from syndicator.served import Served
from syndicator.served import etag_of
from syndicator.service.output import HeldFiles
from syndicator.service.output import Output
from syndicator.store.claim import claim
from syndicator.store.files import Replaced
from syndicator.store.files import read_twins
from syndicator.store.files import write_changed
from syndicator.store.lock import LockKeeper
from syndicator.store.records import FeedRecord

RENDER_BATCH = 64  # feed specs rendered, compressed and written together, at most
# ... and about this many bytes of their files at most: a batch of a large blog's archives held tens of MB at once.
BATCH_BYTES = 4 * 2**20
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class Written:
    """What one batch's write did."""

    states: dict[str, tuple[int, int]]  # every file and its .gz: (size, mtime_ns) on disk
    etags: dict[str, str]
    zipped: dict[str, bytes]
    changed: list[str]  # the paths (and .gz) actually rewritten


@dataclass(slots=True)
class WriteResult:
    """What the writer made of a plan: the files held for requests (by URL path), the records, the paths rewritten."""

    files: HeldFiles
    records: dict[str, FeedRecord]
    written: list[str] = field(default_factory=list)


class FeedWriter:
    """Renders (through the entry memo), gzips and writes feed files, held as its output says; the builder owns it."""

    def __init__(
        self,
        settings: Settings,
        memo: EntryMemo,
        compressor: Compressor,
        output: Output,
        replaced: Replaced | None = None,
        *,
        split_from: int = 200,
    ) -> None:
        self.settings = settings
        self.replaced = replaced  # keeps the files replaced until the builder releases them (its answer comes first)
        self.split_from = split_from  # feeds to render before an output that forks writes half in a forked copy
        self.batch_bytes = BATCH_BYTES  # rendered bytes that close a batch (its last feed may pass them)
        self.memo = memo
        self.compressor = compressor
        self.output = output
        self.folders: set[str] = set()  # the folders of output_dir we created (given by the builder)
        self.locks = LockKeeper(settings)  # taken again before a write when their files went (git clean -fdx)

    def write_batch(
        self, fresh: dict[str, bytes], parts: dict[str, list[bytes]], known: Mapping[str, bytes]
    ) -> Written:
        """gzip, hash and write rendered files (those whose bytes changed); ``parts``: of those with a gzip twin."""
        known = read_twins(self.settings.output_dir, parts, known)  # read once: write_changed reads none again
        zipped = kept_twins(self.compressor.all(parts), fresh, known)
        etags = {path: etag_of(body) for path, body in fresh.items()}
        files = {**fresh, **{f"{p}.gz": z for p, z in zipped.items()}}
        states, changed = write_changed(self.settings.output_dir, files, known, self.folders, self.replaced)
        return Written(states, etags, zipped, changed)

    def hold(self) -> None:
        """Before anything is written to state_dir or output_dir: this builder's locks and claim, taken again when
        their files went under it (``git clean -fdx``, ``rm -rf``), or refused when another builder took them."""
        self.locks.keep()
        claim(self.settings)

    def carry_out(self, plan: Plan, catalog: Catalog, files: HeldFiles, progress: Progress | None) -> WriteResult:
        """Render and write the plan's feeds, and hold the current ones (``files``: those held now).

        Where the output forks, many feeds to write go half to a forked copy,
        which writes the newer half beside this process; their records come
        back, and their files are held as those already current are. The
        builder took its locks and claim first (``hold``, before its reload wrote
        anything).
        """
        out = WriteResult(dict(files), dict(plan.records))
        to_render = plan.to_render
        theirs: list[tuple[FeedSpec, str]] = []  # the feeds a forked copy writes
        child: Forked[tuple[dict[str, FeedRecord], list[str], set[str]]] | None = None
        if self.output.forks and len(to_render) >= self.split_from and can_fork():
            to_render, theirs = halves(to_render)  # each process builds the entries of its stretch of time
            child = Forked(lambda: self._written_apart(theirs, catalog))
        else:
            self.memo.prerender([spec for spec, _digest in to_render], catalog)  # before the thread: it may fork
        self._render_and_write(out, to_render, catalog, files, progress)
        if child is not None:
            records, written, folders = child.result()
            out.records.update(records)
            out.written.extend(written)
            self.folders |= folders
        for spec in [*plan.current, *(spec for spec, _digest in theirs)]:
            for path in spec.paths:
                if FEEDS_PREFIX + path not in out.files:
                    _size, mtime_ns, etag = out.records[spec.stem].files[path]
                    _hold(out.files, path, self.output.current(spec, path, etag, mtime_ns / 1e9))
        return out

    def _written_apart(
        self, specs: list[tuple[FeedSpec, str]], catalog: Catalog
    ) -> tuple[dict[str, FeedRecord], list[str], set[str]]:
        """Render and write these feeds (in a forked copy): their records, the paths written, the folders made.

        The files it replaced are released here: the copy ends with its answer.
        """
        out = WriteResult({}, {})
        folders = set(self.folders)
        self._render_and_write(out, specs, catalog, {}, None)
        if self.replaced is not None:
            self.replaced.release()
        return out.records, out.written, self.folders - folders

    def _render_and_write(
        self,
        out: WriteResult,
        to_render: list[tuple[FeedSpec, str]],
        catalog: Catalog,
        files: HeldFiles,
        progress: Progress | None,
    ) -> None:
        """Render feeds in batches while a writer thread gzips, hashes and writes the batch before."""
        with ThreadPoolExecutor(max_workers=1) as writer:
            pending: tuple[list[tuple[FeedSpec, str]], dict[str, bytes], Future[Written]] | None = None
            for batch, parts, done in batches(
                to_render, functools.partial(self.memo.entries, catalog=catalog), self.settings, self.batch_bytes
            ):
                fresh = {path: b"".join(chunks) for path, chunks in parts.items()}
                twins = {path: parts[path] for spec, _digest in batch for path in spec.gzipped}
                future = writer.submit(self.write_batch, fresh, twins, self._known(fresh, files))
                if pending is not None:
                    self._finish(out, files, *pending[:2], pending[2].result())
                pending = (batch, fresh, future)
                if progress is not None:
                    progress("writing feeds", done, len(to_render))
            if pending is not None:
                self._finish(out, files, *pending[:2], pending[2].result())

    def write_opml(self, body: bytes, out: WriteResult, files: Mapping[str, Served]) -> None:
        """Write the OPML (when its bytes changed), held as the output says."""
        done = self.write_batch({OPML: body}, {OPML: [body]}, self._known({OPML: body}, files))
        out.written.extend(done.changed)
        last_modified = done.states[OPML][1] / 1e9
        _hold(out.files, OPML, self.output.fresh(OPML, body, done.zipped[OPML], done.etags[OPML], last_modified))

    def _known(self, fresh: Mapping[str, bytes], files: Mapping[str, Served]) -> dict[str, bytes]:
        """The bytes of these files that are on disk and in memory (saves reading them back to compare)."""
        return {p: f.body for p in fresh if (f := files.get(FEEDS_PREFIX + p)) and f.body is not None}

    def _finish(
        self,
        out: WriteResult,
        files: Mapping[str, Served],
        batch: list[tuple[FeedSpec, str]],
        fresh: dict[str, bytes],
        done: Written,
    ) -> None:
        out.written.extend(done.changed)
        for spec, digest in batch:
            paths = spec.paths
            entries = {p: (*done.states[p], done.etags[p]) for p in paths}
            entries |= {f"{p}.gz": (*done.states[f"{p}.gz"], "") for p in spec.gzipped}
            out.records[spec.stem] = FeedRecord(digest, entries)
            for path in paths:
                _hold(out.files, path, self._held(spec, path, fresh[path], done, files))

    def _held(
        self, spec: FeedSpec, path: str, body: bytes, written: Written, files: Mapping[str, Served]
    ) -> Served | None:
        """How a freshly written file is held: as before when its bytes and date are, else as the output says."""
        last_modified = written.states[path][1] / 1e9
        etag = written.etags[path]
        previous = files.get(FEEDS_PREFIX + path)
        if previous is not None and previous.etag == etag and previous.last_modified == last_modified:
            return previous
        zipped = written.zipped.get(path, b"")  # an archive page has no gzip twin
        return self.output.fresh(path, body, zipped, etag, last_modified, spec)


def _hold(files: HeldFiles, path: str, held: Served | None) -> None:
    """Hold a file for requests at its URL path (None: the output holds none)."""
    if held is not None:
        files[FEEDS_PREFIX + path] = held


def batches(
    to_render: list[tuple[FeedSpec, str]],
    entries: Callable[[FeedSpec], dict[str, list[bytes]]],
    settings: Settings,
    batch_bytes: int = BATCH_BYTES,
) -> Iterator[tuple[list[tuple[FeedSpec, str]], dict[str, list[bytes]], int]]:
    """The feeds rendered a batch at a time (RENDER_BATCH feeds, or ``batch_bytes``), with how many are done.

    ``entries``: a feed's entries per format (the entry memo's).
    """
    batch: list[tuple[FeedSpec, str]] = []
    parts: dict[str, list[bytes]] = {}
    size = 0
    for done, (spec, digest) in enumerate(to_render, 1):
        rendered = document_parts(spec, entries(spec), settings)
        parts.update(rendered)
        size += sum(len(chunk) for chunks in rendered.values() for chunk in chunks)
        batch.append((spec, digest))
        if len(batch) >= RENDER_BATCH or size >= batch_bytes or done == len(to_render):
            yield batch, parts, done
            batch, parts, size = [], {}, 0


def halves(to_render: list[tuple[FeedSpec, str]]) -> tuple[list[tuple[FeedSpec, str]], list[tuple[FeedSpec, str]]]:
    """The feeds and, apart, the archive pages, each in time order cut in two with about as many entries a side.

    The two kinds cost differently per entry (a feed also needs RSS and JSON
    entries, which no archive page shows, and its three files are gzipped; an
    archive page's Atom entries are mostly made already for the pages beside
    it), so each process takes half of each. Each side is a stretch of time of each
    kind, so the pages that hold a post are mostly rendered by one process,
    close together, while the post's entry is in its memo.
    """
    pages = [item for item in to_render if item[0].is_archive]
    feeds = [item for item in to_render if not item[0].is_archive]
    older = {id(item) for item in [*_older_half(pages), *_older_half(feeds)]}
    return [item for item in to_render if id(item) in older], [item for item in to_render if id(item) not in older]


def _older_half(items: list[tuple[FeedSpec, str]]) -> list[tuple[FeedSpec, str]]:
    """The first of ``items`` (in time order), up to where about half their entries to render come before."""
    weights = [len(spec.posts) * len(formats_of(spec)) + 1 for spec, _digest in items]
    half, total = sum(weights) / 2, 0
    for index, weight in enumerate(weights):
        total += weight
        if total >= half:
            return items[: index + 1]
    return items
