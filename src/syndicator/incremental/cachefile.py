"""The post cache's file under state_dir: read before the first load, written when the cache changed.

A change of a few posts is appended to the file as a segment of what changed
in each of its parts (a one-post rebuild writes one post and its bindings, not
the ten thousand others nor every post's bindings); a file
with many segments, or a change of many posts, is written whole again. A
one-off build hands the writing (half a second at 10,000 posts, when it is
whole) to a forked copy right after parsing, so that it runs on the second
core while this process renders and writes the feeds; the reload waits for
the copy before it returns.
"""

from __future__ import annotations

import gc
from contextlib import AbstractContextManager
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from syndicator.config import Settings
from syndicator.incremental.forked import Forked
from syndicator.incremental.forked import can_fork
from syndicator.incremental.postcache import PostCache
from syndicator.store import state
from syndicator.store.state import CacheFileState

MAX_SEGMENTS = 64  # appended since the file was last written whole; then it is written whole again
WHOLE_FROM = 4  # a change of at least a fourth of the posts is written whole


Parts = tuple[dict[str, Any], ...]  # the entries, the posts' bindings, the assets' facts (``PostCache.saved``)


@dataclass(frozen=True, slots=True)
class Pending:
    """A save to make: the cache's parts as they were when it was asked for (copies of those that change in place),
    and the parts the file holds with its state."""

    parts: Parts
    on_disk: tuple[Parts, CacheFileState] | None


class CacheFile:
    """Saves one PostCache to state_dir (``apart``: in a forked copy, for a one-off build)."""

    def __init__(self, settings: Settings, cache: PostCache, *, apart: bool = False) -> None:
        self.settings = settings
        self.cache = cache
        self.apart = apart
        self._saving: Forked[CacheFileState | None] | None = None
        self._on_disk: tuple[Parts, CacheFileState] | None = None  # the parts the file holds, its state
        self._writing: Pending | None = None  # what the forked copy writes

    def restore(self) -> None:
        """Start the cache from the file an earlier process saved (when there is one, of this code and settings).

        Read with the cycle collector paused (its passes over the objects being
        made cost as much as making them), which are then kept out of its later
        full passes: the posts live on, as a snapshot's do (``gc.freeze``).
        """
        paused = gc.isenabled()
        gc.disable()
        try:
            saved, file = state.load_post_cache(self.settings)
        finally:
            if paused:
                gc.enable()
        gc.freeze()
        self.cache.restore(saved)
        if file is not None and self.cache.entries:
            self._on_disk = (self.cache.saved(), file)

    def save(self, lock: AbstractContextManager[object] | None = None) -> None:
        """Write the cache when it changed since it was restored or saved (or the file is missing).

        ``lock`` (the builder's) is held while what to write is taken and while
        the written file is recorded, not while it is written: 100,000 posts take
        seconds to pickle, and a reload meanwhile need not wait (what it changes
        is written by the next save).
        """
        with lock or nullcontext():
            pending = self._pending()
        if pending is not None:
            file = self._write(pending)
            with lock or nullcontext():
                self._saved(pending, file)

    def start_apart(self) -> None:
        """Start writing a changed cache in a forked copy (only where forking is safe)."""
        if self.apart and self.cache.dirty and self._saving is None and can_fork():
            pending = self._writing = self._pending()
            if pending is not None:
                self._saving = Forked(lambda: self._write_apart(pending))

    def finish_apart(self) -> None:
        """Wait for the copy; a cache it could not write stays changed, for ``save`` to write and report."""
        saving, self._saving = self._saving, None
        if saving is not None and self._writing is not None and (file := saving.result()) is not None:
            self._saved(self._writing, file)
        self._writing = None

    def _pending(self) -> Pending | None:
        """What a save would write now, or None when the file is the cache already."""
        if not self.cache.dirty and (self.settings.state_dir / state.POSTS_CACHE_FILE).exists():
            return None
        return Pending(self.cache.saved(), self._on_disk)

    def _saved(self, pending: Pending, file: CacheFileState) -> None:
        self._on_disk = (pending.parts, file)
        if self.cache.entries is pending.parts[0]:
            self.cache.dirty = False

    def _write_apart(self, pending: Pending) -> CacheFileState | None:
        try:
            return self._write(pending)
        except OSError:
            return None

    def _write(self, pending: Pending) -> CacheFileState:
        """Append what changed since the file was written, or write the cache whole; the file's new state."""
        parts = pending.parts
        if pending.on_disk is not None and pending.on_disk[1].segments < MAX_SEGMENTS:
            before, file = pending.on_disk
            segment = tuple(_changes(was, now) for was, now in zip(before, parts, strict=True))
            changed, removed = segment[0]
            if (len(changed) + len(removed)) * WHOLE_FROM < len(parts[0]):
                appended = state.append_post_cache(self.settings, segment, file)
                if appended is not None:
                    return appended
        return state.save_post_cache(self.settings, parts)


def _changes(was: dict[str, Any], now: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """What a part's segment holds: its items that are not the very ones of ``was``, and the keys gone since."""
    changed = {key: value for key, value in now.items() if was.get(key) is not value}
    return changed, [key for key in was if key not in now]
