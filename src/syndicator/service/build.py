"""The builder: refresh -> publish -> decide -> render -> write -> Snapshot, and the one writer of output_dir.

A reload builds the whole new Snapshot in memory, writes the feed files that
changed, then publishes the Snapshot by assigning one attribute. It returns
its report, or a ReloadError value: a failed reload keeps the last good
Snapshot. What a server's reload does beyond writing (holding the feeds,
making the pages) is its Output's business. A preview publishes as a reload
would and writes nothing (for ``check``).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from collections.abc import Collection
from dataclasses import dataclass
from dataclasses import replace
from datetime import datetime

from syndicator.config import Settings
from syndicator.core.catalog import shadowed_redirects
from syndicator.core.history import unannounced
from syndicator.core.ledger import redirects
from syndicator.core.pipeline import History
from syndicator.core.pipeline import Published
from syndicator.core.pipeline import publish
from syndicator.core.podcasts import shows_of_no_category
from syndicator.core.recovery import LedgerError
from syndicator.core.sitemap import FAVICON
from syndicator.core.urls import FEEDS_PREFIX
from syndicator.core.urls import OPML
from syndicator.incremental.cachefile import CacheFile
from syndicator.incremental.changes import decide
from syndicator.incremental.gzip import Compressor
from syndicator.incremental.memo import BUILD_SIZES
from syndicator.incremental.memo import SERVING_SIZES
from syndicator.incremental.memo import Digests
from syndicator.incremental.memo import EntryMemo
from syndicator.incremental.memo import Layout
from syndicator.incremental.memo import LayoutMemo
from syndicator.incremental.memo import OpmlMemo
from syndicator.incremental.memo import PagingMemo
from syndicator.incremental.pagememo import PageMemo
from syndicator.incremental.postcache import PostCache
from syndicator.incremental.postcache import Progress
from syndicator.model import Post
from syndicator.problem import LoadProblem
from syndicator.service.assets import AssetWriter
from syndicator.service.output import HeldFiles
from syndicator.service.output import Output
from syndicator.service.output import ServingOutput
from syndicator.service.reloadlog import in_folder
from syndicator.service.reloadlog import log_report
from syndicator.service.reloadlog import logged_failure
from syndicator.service.reloadlog import system_cause
from syndicator.service.sitewriter import SiteWriter
from syndicator.service.snapshot import BuildReport
from syndicator.service.snapshot import Snapshot
from syndicator.service.snapshot import public_problems
from syndicator.service.snapshot import stored_snapshot
from syndicator.service.writer import FeedWriter
from syndicator.store import records as feed_records
from syndicator.store.claim import ClaimedError
from syndicator.store.files import prune
from syndicator.store.keeper import Keeper
from syndicator.store.keeper import StateWriteError
from syndicator.store.records import Stamp
from syndicator.store.state import fingerprint
from syndicator.store.templates import static_bytes

logger = logging.getLogger(__name__)


class ReloadStopped(Exception):
    """The builder was told to stop (its process ends): raised at the reload's next step, never in the middle of one."""


class EmptySourceError(Exception):
    """posts_dir has no post file at all where the last good load published posts (an unmounted share?)."""


REFUSALS = (EmptySourceError, LedgerError, ClaimedError, StateWriteError)  # a reload refused: one line, no traceback


@dataclass(frozen=True, slots=True)
class ReloadError:
    """A reload that failed: why (for the log and `build`); the last good Snapshot stays served."""

    message: str
    error: Exception


@dataclass(frozen=True, slots=True)
class Preview:
    """What a reload would publish, and every problem it would report (in its order); nothing written."""

    published: Published
    problems: tuple[LoadProblem, ...]


class Stopping:
    """Asked between a reload's steps; once set (its process ends), the reload gives up there: ReloadStopped.

    What it wrote stays whole (each file is written beside and renamed); the
    next start finishes the work, as it does after a build stopped by Ctrl-C.
    """

    def __init__(self) -> None:
        self._asked = threading.Event()

    def set(self) -> None:
        self._asked.set()

    def check(self) -> None:
        if self._asked.is_set():
            raise ReloadStopped("the builder was stopped during the reload; every file written is whole")

    def progress(self, progress: Progress | None) -> Progress:
        """``progress``, checking first."""

        def told(stage: str, done: int, total: int) -> None:
            self.check()
            if progress is not None:
                progress(stage, done, total)

        return told


class Builder:
    """Owns the post cache, the memos and the current Snapshot; the only writer of output_dir.

    ``output``: what becomes of the files written, a server's (the default: held for the web app, pages made) or a
    one-off build's (``FilesOutput``). ``parallel_from``: how many posts to parse, or Atom entries to build, at once
    before a forked copy takes half (and a tenth as many feeds, for an output that forks to write half there). A
    load finding no post file where posts were published fails (the feeds stay) unless ``allow_empty``; so does
    one finding the ids lost."""

    def __init__(
        self, settings: Settings, output: Output | None = None, *, parallel_from: int = 2000, allow_empty: bool = False
    ) -> None:
        self.settings = settings
        self.output = output if output is not None else ServingOutput(settings)
        self.allow_empty = allow_empty
        self.snapshot: Snapshot | None = None
        self.last_error: str | None = None
        self.last_cause = ""  # the system's reason a failed reload could not write ("No space left on device")
        self._lock = threading.Lock()
        self.stopping = Stopping()  # set when the process ends: the reload that runs gives up at its next step
        self.cache = PostCache(settings, parallel_from=parallel_from)
        self.state = Keeper(settings)  # ledger and post cache: read by the first reload or preview; settled after it
        memo = EntryMemo(settings, BUILD_SIZES if self.output.forks else SERVING_SIZES, parallel_from=parallel_from)
        split_from = max(1, parallel_from // 10)  # a feed to write costs about what ten posts to parse do
        self.writer = FeedWriter(settings, memo, Compressor(), self.output, self.state.replaced, split_from=split_from)
        self.writer.folders = self.state.folders
        self._paging, self._opml, self._layouts = PagingMemo(settings), OpmlMemo(settings), LayoutMemo()
        self._site = SiteWriter(settings, self.writer, static_bytes(settings, FAVICON))  # sitemap, robots, favicon
        self._assets = AssetWriter(settings)
        self.pages = PageMemo(settings, self.output.renderer)  # its renderer also draws what requests make
        self._digests = Digests(fingerprint(settings))
        self._published: Published | None = None
        self._keys: dict[str, tuple[object, ...]] = {}
        self._last_files: set[str] = set()  # every file the last reload's layout has: pruned again when it changes
        self._redirects: tuple[object, dict[str, str]] = (None, {})
        self._last_problems: tuple[object, ...] = ()
        self._cache_file = CacheFile(settings, self.cache, apart=self.output.forks)  # on the second core
        self.listeners: list[Callable[[Snapshot], None]] = []  # told of each new Snapshot after its reload (serve)

    def reload(
        self,
        now: datetime,
        progress: Progress | None = None,
        changed: Collection[str] | None = None,
        *,
        settle: bool = True,
    ) -> BuildReport | ReloadError:
        """Load what changed, render the feeds whose posts changed, write them, publish the new Snapshot.

        ``progress(stage, done, total)`` is told how a long load goes. ``changed``
        names the only post files that may have changed (from a watcher); None
        looks at every file. ``settle=False`` leaves the state unsettled (a server answers first: ``Keeper.settle``).
        """
        with self._lock:
            try:
                report = self._reload(now, self.stopping.progress(progress), changed)
                if settle:
                    self.state.settle()
            except Exception as exc:  # noqa: BLE001 - the one catch-all (logged): a failed reload keeps the last snapshot
                self.last_error, self.last_cause = logged_failure(exc, REFUSALS, ReloadStopped), system_cause(exc)
                self.state.replaced.release()  # the files its writes replaced: no answer waits (a full disk needs them)
                return ReloadError(self.last_error, exc)
            finally:
                self._cache_file.finish_apart()  # the copy writing the cache, if one was started
            self.last_error, self.last_cause = None, ""
            return report

    def preview(self, now: datetime) -> Preview:
        """What a reload at ``now`` would publish, with every problem it would report (what it refuses, refused)."""
        with self._lock:
            self._start()
            loaded, problems = self.cache.refresh()
            refuse_empty(self.settings, self.allow_empty or len(self.cache.entries), 0, len(self.state.ledger))
            published = _publish_posts(self.state, loaded, now, self._published)
            return Preview(published, _ordered(all_problems(problems, published, self.state, self.settings)))

    def serve_stored(self, now: datetime) -> None:
        """Before the first load, serve the feeds an earlier run left in output_dir (as recorded)."""
        with self._lock:
            if self.snapshot is None:
                self.snapshot = stored_snapshot(self.settings, self.state.records, now)

    def save_cache(self) -> None:
        """Keep the parsed posts under state_dir, so that the next process starts warm (written outside the lock)."""
        self._cache_file.save(self._lock)

    def save_stamp(self) -> None:
        """Mark the last reload as a complete build, so that a run finding nothing changed can stop early."""
        with self._lock:
            if self.snapshot is not None:
                stamp = _stamp(self.snapshot.report, self.state.settled_problem)
                feed_records.write_stamp(self.settings, self.cache.states(), *stamp)

    def _start(self) -> None:
        """Before the first load: the parsed posts and the ledger the last run left."""
        if not self.state.started:
            self._cache_file.restore()
            self.state.start()  # LedgerError when the published ids are lost

    def _reload(self, now: datetime, progress: Progress, changed: Collection[str] | None) -> BuildReport:
        self.stopping.check()
        self._start()
        stored = self.state
        started, parsed_before, folders = time.perf_counter(), self.cache.parsed, set(stored.folders)
        loaded, problems = self.cache.refresh(progress, changed)
        self.writer.hold()  # this builder's locks and claim, or refused before a write (another builder took them)
        self._cache_file.start_apart()
        last = self.snapshot.report.posts if self.snapshot else 0
        refuse_empty(self.settings, self.allow_empty or len(self.cache.entries), last, len(stored.ledger))
        published = _publish_posts(self.state, loaded, now, self._published)
        catalog = published.catalog
        specs = self._paging.specs(catalog, published.tombstones, departed=published.departed)
        disk = feed_records.disk_states(self.settings.output_dir, stored.records.values())
        key_of = functools.partial(self._digests.key, catalog=catalog)
        digest_of = functools.partial(self._digests.digest, catalog=catalog)
        plan = decide(specs, key_of, digest_of, self._keys, stored.records, disk)
        self.stopping.check()
        stored.save_published(published.ledger, published.feeds)  # before output_dir shows it (store.keeper)
        files = self.snapshot.files if self.snapshot is not None and not self.snapshot.starting else {}
        with in_folder(self.settings.output_dir):  # a write it refuses says where (a full disk names no file)
            out = self.writer.carry_out(plan, catalog, files, progress)
            self.writer.write_opml(self._opml.render(specs), out, files)
            layout = self._layouts.layout(specs)
            removed = self._site.write(catalog, out, files)
            removed += prune_gone(self.settings, stored, layout, self._last_files)
            media = self._assets.publish(catalog.with_pages, self.cache.assets.files, stored.folders, changed is None)
        self._last_files = layout.keep
        problems = all_problems(problems, published, stored, self.settings)
        late = stored.save(out.records, folders)  # state_dir refusing them now leaves the snapshot to publish
        self._keys, self._published = plan.keys, published
        changes = ([*out.written, *media.written], [*removed, *media.removed])
        self.pages.update(catalog, now)  # the pages it shows (.last), made again where their posts changed
        problems += self.pages.problems()  # a theme's template that failed on a page (drawn with the package's)
        report = _report(self.settings, published, problems, now, layout, changes, self.cache.parsed - parsed_before)
        report = replace(report, duration_ms=round((time.perf_counter() - started) * 1000, 1))
        self._publish(out.files, layout.keep, report, published)
        if late is not None:
            raise late
        return report

    def _publish(self, files: HeldFiles, keep: set[str], report: BuildReport, published: Published) -> None:
        """Make the new Snapshot the one served."""
        files = _current(files, keep, len(report.feeds))
        if self._redirects[0] is not published.ledger:
            self._redirects = (published.ledger, redirects(published.ledger))
        assets, pages, sources = self._assets.served, self.pages.last, self.cache.assets.files
        self.snapshot = self.output.snapshot(published, report, self._redirects[1], files, assets, pages, sources)
        changed = report.parsed or report.written or report.removed or report.problems != self._last_problems
        self._last_problems = report.problems
        log_report(report, logging.INFO if changed else logging.DEBUG)  # an unchanged reload is no news


def _publish_posts(stored: Keeper, loaded: list[Post], now: datetime, last: Published | None) -> Published:
    """The loaded posts published at ``now`` over the ledger and the feeds' history (after the ``last`` reload's)."""
    history = History(stored.feeds, stored.settings.tombstone_days)
    return publish(loaded, stored.ledger, now, last, stored.recovered, history)


def _stamp(report: BuildReport, settled: LoadProblem | None) -> tuple[datetime | None, Stamp]:
    """What a build's stamp keeps of its report: when the next post is due, the counts it printed, and the problems
    a build finding nothing changed prints again (not ``settled``, a lost ledger's, which this build wrote back)."""
    problems = tuple(problem for problem in report.problems if problem != settled)
    return report.next_publish_at, Stamp(len(report.feeds), report.posts, report.categories, problems)


def _current(files: HeldFiles, keep: set[str], count: int) -> HeldFiles:
    """The files to serve: without those no longer written (when there are more than ``count`` feeds' files)."""
    if len(files) == count:
        return files
    return {url: f for url, f in files.items() if not url.startswith(FEEDS_PREFIX) or url[len(FEEDS_PREFIX) :] in keep}


def _report(
    settings: Settings,
    published: Published,
    problems: list[LoadProblem],
    now: datetime,
    layout: Layout,
    changes: tuple[list[str], list[str]],
    parsed: int,
) -> BuildReport:
    """What a reload did and found (``changes``: the files written and removed, their .gz twins among them)."""
    ordered = _ordered(problems)
    written, removed = changes
    catalog = published.catalog
    return BuildReport(
        posts=len(catalog.posts),
        categories=len(catalog.categories),
        problems=ordered,
        loaded_at=now,
        next_publish_at=published.next_publish_at,  # the partners' too: the schedule reloads for them
        feeds=layout.feeds,
        topics=layout.topics,
        written=tuple(sorted(p for p in written if not p.endswith(".gz"))),
        removed=tuple(p for p in removed if not p.endswith(".gz")),
        parsed=parsed,
        duration_ms=0.0,
        public_problems=public_problems(ordered, settings, unannounced(published.ledger, published.loaded, now)),
    )


def all_problems(
    problems: list[LoadProblem], published: Published, stored: Keeper, settings: Settings
) -> list[LoadProblem]:
    """The files' problems, publishing's, redirects and shows the posts make void, the ledger's (lost, unreadable)."""
    problems += published.problems + shadowed_redirects(settings.redirects, published.catalog)
    if settings.podcasts:
        catalogs = (published.catalog, published.partner_catalog)
        problems += shows_of_no_category(settings, {slug for c in catalogs if c is not None for slug in c.categories})
    if stored.ledger_problem is not None:
        problems.append(stored.ledger_problem)
    return problems


def _ordered(problems: list[LoadProblem]) -> tuple[LoadProblem, ...]:
    """Problems in the order they are reported: by file, line and message."""
    return tuple(sorted(problems, key=lambda p: (p.path, p.line, p.message)))


def prune_gone(settings: Settings, stored: Keeper, layout: Layout, last: set[str]) -> list[str]:
    """Remove the files the last build recorded writing that this one no longer writes (and emptied folders).

    Nothing to do when the files are those of the last reload (``last``); the replaced files kept aside stay.
    """
    keep = layout.keep
    if keep == last:
        return []
    written = {path for record in stored.records.values() for path in record.files} | {OPML, f"{OPML}.gz"}
    return prune(settings.output_dir, written, keep, stored.folders, stored.replaced)


def refuse_empty(settings: Settings, found: int, published: int, recorded: int) -> None:
    """An empty posts_dir (``found``: its post files; true when an empty site is allowed), where the last good load
    (or the ledger) had posts, is refused, not published: by a reload, and by a preview (``check``) as well."""
    if not found and (published or recorded):
        raise EmptySourceError(
            f"{settings.posts_dir} has no post file, where {published or recorded} posts were "
            "published: the published feeds stay as they are (--allow-empty publishes an empty site)"
        )
