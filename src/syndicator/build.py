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
from syndicator.ledger import LEDGER_FILE
from syndicator.ledger import Record
from syndicator.ledger import assign_ids
from syndicator.ledger import dumps
from syndicator.ledger import loads
from syndicator.ledger import record
from syndicator.ledger import redirects
from syndicator.model import LoadProblem
from syndicator.output import FeedFile
from syndicator.output import prune
from syndicator.output import write_atomic
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
    redirects: dict[str, str]  # old post slug -> current slug


def read_ledger(settings: Settings) -> tuple[dict[str, Record], LoadProblem | None]:
    """The ledger in state_dir; an empty one (and a warning) when it is missing or unreadable."""
    path = settings.state_dir / LEDGER_FILE
    try:
        return loads(path.read_bytes()), None
    except FileNotFoundError:
        return {}, None
    except (OSError, ValueError, KeyError, AttributeError) as exc:
        logger.warning("ledger unreadable path=%s reason=%s", path, exc)
        return {}, LoadProblem(str(path), 1, f"ledger unreadable ({exc}); rebuilt from the posts", fatal=False)


class Builder:
    """Owns the post cache and the current Snapshot; the only writer of output_dir."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cache = PostCache(settings)
        self.snapshot: Snapshot | None = None
        self.last_error: str | None = None
        self._lock = threading.Lock()
        self.ledger, self._ledger_problem = read_ledger(settings)

    def reload(self, now: datetime) -> BuildReport:
        """Load what changed, render every feed, write the changed files, publish the new Snapshot."""
        with self._lock:
            return self._reload(now)

    def _reload(self, now: datetime) -> BuildReport:
        started = time.perf_counter()
        parsed_before = self.cache.parsed
        posts, problems = self.cache.refresh()
        posts, id_warnings = assign_ids(posts, self.ledger)
        problems.extend(id_warnings)
        catalog = Catalog.build(posts, now)
        problems.extend(catalog.problems)
        if self._ledger_problem is not None:
            problems.append(self._ledger_problem)
        ledger = record(self.ledger, catalog.posts)
        rendered = render_feeds(catalog, self.settings)

        old = self.snapshot.files if self.snapshot is not None else {}
        known = {key.removeprefix(FEEDS_PREFIX): f.body for key, f in old.items()}
        out_dir = self.settings.output_dir
        mtimes, written = write_changed(out_dir, rendered, known)
        removed = prune(out_dir, rendered)
        if ledger != self.ledger or self._ledger_problem is not None:
            write_atomic(self.settings.state_dir / LEDGER_FILE, dumps(ledger))
            self.ledger, self._ledger_problem = ledger, None
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
        self.snapshot = Snapshot(catalog=catalog, files=files, report=report, redirects=redirects(ledger))
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
