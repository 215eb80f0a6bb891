"""The builder: refresh -> publish -> decide -> render -> write -> Snapshot, and the one writer of output_dir.

A reload builds the whole new Snapshot in memory, writes the feed files that
changed, then publishes the Snapshot by assigning one attribute. It returns
its report, or a ReloadError value: a failed reload keeps the last good
Snapshot.
"""

from __future__ import annotations

import functools
import gc
import logging
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from syndicator.config import Settings
from syndicator.core.ledger import redirects
from syndicator.core.pipeline import Published
from syndicator.core.pipeline import publish
from syndicator.core.plan import FEEDS_PREFIX
from syndicator.core.plan import OPML
from syndicator.incremental.changes import decide
from syndicator.incremental.gzip import Compressor
from syndicator.incremental.memo import Digests
from syndicator.incremental.memo import EntryMemo
from syndicator.incremental.memo import LayoutMemo
from syndicator.incremental.memo import OpmlMemo
from syndicator.incremental.memo import PagingMemo
from syndicator.incremental.postcache import PostCache
from syndicator.incremental.postcache import Progress
from syndicator.service.assets import AssetWriter
from syndicator.service.snapshot import BuildReport
from syndicator.service.snapshot import FeedFile
from syndicator.service.snapshot import Snapshot
from syndicator.service.snapshot import public_problems
from syndicator.service.writer import FeedWriter
from syndicator.service.writer import Output
from syndicator.store import records as feed_records
from syndicator.store import state
from syndicator.store.files import prune
from syndicator.store.records import Stamp

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReloadError:
    """A reload that failed: why (for the log and `build`); the last good Snapshot stays served."""

    message: str
    error: Exception


class Builder:
    """Owns the post cache, the memos and the current Snapshot; the only writer of output_dir.

    ``serving`` keeps every feed's bytes in memory for the web app; a one-off
    build does without them. ``parallel_from``: how many posts to parse, or
    Atom entries to build, at once before a forked copy of the process takes
    half. Raises LedgerError when the published ids are lost.
    """

    def __init__(self, settings: Settings, *, serving: bool = True, parallel_from: int = 2000) -> None:
        self.settings = settings
        self.serving = serving
        self.snapshot: Snapshot | None = None
        self.last_error: str | None = None
        self._lock = threading.Lock()
        self.cache = PostCache(settings, parallel_from=parallel_from)
        self.cache.restore(state.load_post_cache(settings))
        self.ledger, self._ledger_problem, self._recovered = state.read_ledger(settings)
        self._records_file = feed_records.RecordsFile(settings)
        self._records = self._records_file.read()
        memo = EntryMemo(settings, parallel_from=parallel_from)
        self.writer = FeedWriter(settings, memo, Compressor(), serving=serving)
        self.writer.folders = state.read_folders(settings)
        self._paging, self._opml, self._layouts = PagingMemo(settings), OpmlMemo(settings), LayoutMemo()
        self._assets = AssetWriter(settings)
        self._digests = Digests(state.fingerprint(settings))
        self._published: Published | None = None
        self._keys: dict[str, tuple[object, ...]] = {}
        self._kept: set[str] = set()  # the files of the last reload, to prune only when that set changes
        self._redirects: tuple[object, dict[str, str]] = (None, {})

    def reload(
        self, now: datetime, progress: Progress | None = None, changed: Collection[str] | None = None
    ) -> BuildReport | ReloadError:
        """Load what changed, render the feeds whose posts changed, write them, publish the new Snapshot.

        ``progress(stage, done, total)`` is told how a long load goes. ``changed``
        names the only post files that may have changed (from a watcher); None
        looks at every file.
        """
        with self._lock:
            try:
                report = self._reload(now, progress, changed)
            except Exception as exc:  # the one catch-all: a failed reload must keep the last good snapshot
                logger.exception("reload failed")
                self.last_error = f"{type(exc).__name__}: {exc}"
                return ReloadError(self.last_error, exc)
            self.last_error = None
            return report

    def save_cache(self) -> None:
        """Keep the parsed posts under state_dir, so that the next process starts warm."""
        with self._lock:
            if self.cache.dirty or not (self.settings.state_dir / state.POSTS_CACHE_FILE).exists():
                state.save_post_cache(self.settings, self.cache.saved())
                self.cache.dirty = False

    def save_stamp(self) -> None:
        """Mark the last reload as a complete build, so that a run finding nothing changed can stop early."""
        with self._lock:
            if self.snapshot is not None:
                report = self.snapshot.report
                stamp = Stamp(len(report.feeds), report.posts, report.categories, report.problems)
                feed_records.write_stamp(self.settings, self.cache.states(), report.next_publish_at, stamp)

    def _reload(self, now: datetime, progress: Progress | None, changed: Collection[str] | None) -> BuildReport:
        started, parsed_before = time.perf_counter(), self.cache.parsed
        folders = set(self.writer.folders)
        loaded, problems = self.cache.refresh(progress, changed)
        published = publish(loaded, self.ledger, now, self._published, self._recovered)
        catalog = published.catalog
        specs = self._paging.specs(catalog)
        disk = feed_records.disk_states(self.settings.output_dir, self._records.values())
        key_of = functools.partial(self._digests.key, catalog=catalog)
        digest_of = functools.partial(self._digests.digest, catalog=catalog)
        plan = decide(specs, key_of, digest_of, self._keys, self._records, disk)
        files = self.snapshot.files if self.snapshot is not None else {}
        out = self.writer.carry_out(plan, catalog, files, progress)
        self.writer.write_opml(self._opml.render(specs), out, files)
        layout = self._layouts.layout(specs)
        removed = self._prune(layout.keep)
        media = self._assets.publish(catalog.posts, self.cache.assets.files, self.writer.folders, changed is None)
        if self.writer.folders != folders:
            state.write_folders(self.settings, self.writer.folders)
        self._save_state(out, published)
        self._keys, self._published = plan.keys, published
        problems += published.problems
        if self._ledger_problem is not None:
            problems.append(self._ledger_problem)
        self._ledger_problem, self._recovered = None, {}
        ordered = tuple(sorted(problems, key=lambda p: (p.path, p.line, p.message)))
        report = BuildReport(
            posts=len(catalog.posts),
            categories=len(catalog.categories),
            problems=ordered,
            loaded_at=now,
            next_publish_at=catalog.next_publish_at,
            feeds=layout.feeds,
            topics=layout.topics,
            written=tuple(sorted([*(p for p in out.written if not p.endswith(".gz")), *media.written])),
            removed=tuple(sorted([*(p for p in removed if not p.endswith(".gz")), *media.removed])),
            parsed=self.cache.parsed - parsed_before,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
            public_problems=public_problems(ordered, self.settings),
        )
        self._publish(out.files, layout.keep, report, published)
        return report

    def _prune(self, keep: set[str]) -> list[str]:
        """Remove the files of the last build that this one no longer writes (only when the set changed)."""
        if keep == self._kept:
            return []
        written = {path for record in self._records.values() for path in record.files} | {OPML, f"{OPML}.gz"}
        removed = prune(self.settings.output_dir, written, keep, self.writer.folders)
        self._kept = keep
        return removed

    def _save_state(self, out: Output, published: Published) -> None:
        """Write the records and the ledger when they changed (after the files they describe)."""
        if out.records != self._records:
            self._records_file.write(out.records)
        if published.ledger != self.ledger or self._ledger_problem is not None:
            state.write_ledger(self.settings, published.ledger)
        self._records, self.ledger = out.records, published.ledger

    def _publish(self, files: dict[str, FeedFile], keep: set[str], report: BuildReport, published: Published) -> None:
        """Make the new Snapshot the one served."""
        if len(files) != len(keep) // 2:
            files = {url: f for url, f in files.items() if url.removeprefix(FEEDS_PREFIX) in keep}
        if self._redirects[0] is not published.ledger:
            self._redirects = (published.ledger, redirects(published.ledger))
        catalog = published.catalog
        served = files if self.serving else {}
        assets = self._assets.served if self.serving else {}
        self.snapshot = Snapshot(catalog, served, report, self._redirects[1], assets)
        gc.collect(1)
        gc.freeze()  # the snapshot lives on: keep it out of the full collections (tens of ms at 10,000 posts)
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


def reload_or_raise(builder: Builder, now: datetime, progress: Progress | None = None) -> BuildReport:
    """A reload whose failure is raised again (for a one-off build and for tests)."""
    result = builder.reload(now, progress)
    if isinstance(result, ReloadError):
        raise result.error
    return result
