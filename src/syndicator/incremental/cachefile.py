"""The post cache's file under state_dir: written when the cache changed, by a forked copy when it can be.

A one-off build hands the pickling and writing of the parsed posts (half a
second at 10,000 posts) to a forked copy right after parsing, so that it runs
on the second core while this process renders and writes the feeds; the
reload waits for the copy before it returns.
"""

from __future__ import annotations

from syndicator.config import Settings
from syndicator.incremental.forked import Forked
from syndicator.incremental.forked import can_fork
from syndicator.incremental.postcache import PostCache
from syndicator.store import state


class CacheFile:
    """Saves one PostCache to state_dir (``apart``: in a forked copy, for a one-off build)."""

    def __init__(self, settings: Settings, cache: PostCache, *, apart: bool = False) -> None:
        self.settings = settings
        self.cache = cache
        self.apart = apart
        self._saving: Forked[bool] | None = None

    def save(self) -> None:
        """Write the cache when it changed since it was restored or saved (or the file is missing)."""
        if self.cache.dirty or not (self.settings.state_dir / state.POSTS_CACHE_FILE).exists():
            state.save_post_cache(self.settings, self.cache.saved())
            self.cache.dirty = False

    def start_apart(self) -> None:
        """Start writing a changed cache in a forked copy (only where forking is safe)."""
        if self.apart and self.cache.dirty and self._saving is None and can_fork():
            self._saving = Forked(self._write)

    def finish_apart(self) -> None:
        """Wait for the copy; a cache it could not write stays changed, for ``save`` to write and report."""
        saving, self._saving = self._saving, None
        if saving is not None and saving.result():
            self.cache.dirty = False

    def _write(self) -> bool:
        try:
            state.save_post_cache(self.settings, self.cache.saved())
        except OSError:
            return False
        return True
