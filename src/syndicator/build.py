"""Run one load: posts -> catalog -> feeds -> files, and hold the Snapshot that is served.

A reload builds the whole new Snapshot in memory, writes the feed files that
changed, then publishes the Snapshot by assigning one attribute.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from syndicator.catalog import Catalog
from syndicator.config import Settings
from syndicator.feeds import render_feeds
from syndicator.model import LoadProblem
from syndicator.output import FeedFile
from syndicator.output import prune
from syndicator.output import write_changed
from syndicator.posts import PostCache

logger = logging.getLogger(__name__)

FEEDS_PREFIX = "/feeds/"


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What one reload did and found."""

    posts: int
    categories: int
    problems: tuple[LoadProblem, ...]
    loaded_at: datetime
    next_publish_at: datetime | None
    written: tuple[str, ...]
    removed: tuple[str, ...]
    parsed: int
    duration_ms: float

    @property
    def failed(self) -> bool:
        """Whether any post could not be published (warnings do not count)."""
        return any(p.fatal for p in self.problems)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a request needs, immutable: the catalog and every feed by URL path."""

    catalog: Catalog
    files: dict[str, FeedFile]
    report: BuildReport


class Builder:
    """Owns the post cache and the current Snapshot; the only writer of output_dir."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cache = PostCache(settings)
        self.snapshot: Snapshot | None = None
        self.last_error: str | None = None
        self._lock = threading.Lock()

    def reload(self, now: datetime) -> BuildReport:
        """Load what changed, render every feed, write the changed files, publish the new Snapshot."""
        with self._lock:
            return self._reload(now)

    def _reload(self, now: datetime) -> BuildReport:
        started = time.perf_counter()
        parsed_before = self.cache.parsed
        posts, problems = self.cache.refresh()
        catalog = Catalog.build(posts, now)
        problems.extend(catalog.problems)
        rendered = render_feeds(catalog, self.settings)

        old = self.snapshot.files if self.snapshot is not None else {}
        known = {key.removeprefix(FEEDS_PREFIX): f.body for key, f in old.items()}
        out_dir = self.settings.output_dir
        mtimes, written = write_changed(out_dir, rendered, known)
        removed = prune(out_dir, rendered)
        files: dict[str, FeedFile] = {}
        for path, body in rendered.items():
            key = FEEDS_PREFIX + path
            previous = old.get(key)
            if previous is not None and previous.body == body and previous.last_modified == mtimes[path]:
                files[key] = previous
            else:
                files[key] = FeedFile.make(path, body, mtimes[path])

        report = BuildReport(
            posts=len(catalog.posts),
            categories=len(catalog.categories),
            problems=tuple(sorted(problems, key=lambda p: (p.path, p.line, p.message))),
            loaded_at=now,
            next_publish_at=catalog.next_publish_at,
            written=tuple(sorted(written)),
            removed=tuple(removed),
            parsed=self.cache.parsed - parsed_before,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        self.snapshot = Snapshot(catalog=catalog, files=files, report=report)
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
