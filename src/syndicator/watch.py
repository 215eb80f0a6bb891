"""Notice post files as they are written, created, moved or deleted (inotify on Linux, through watchdog).

The watcher only collects paths: a reload asks it which files changed since
the last time (``take``) and looks at those alone, instead of stat-ing every
post file. It answers "look at everything" (None) after a folder was created,
moved or deleted, or when it could not start; the scheduled reloads keep
looking at everything anyway, so a missed event costs at most one
reload_interval.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent
from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer

logger = logging.getLogger(__name__)

_FILE_EVENTS = frozenset({"created", "modified", "moved", "deleted", "closed"})
_FOLDER_EVENTS = frozenset({"created", "moved", "deleted"})


class PostWatcher(FileSystemEventHandler):
    """Collects the post folder's changed paths, spelled as the post cache spells them (posts_dir/...)."""

    def __init__(self, posts_dir: Path, on_change: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.root = str(posts_dir)
        self.on_change = on_change
        self._lock = threading.Lock()
        self._paths: set[str] = set()
        self._everything = True  # until it has started, nothing was watched
        self._observer: Observer | None = None  # type: ignore[valid-type]

    def start(self) -> bool:
        """Start watching; False (and every ``take`` says "everything") when the system cannot watch."""
        observer = Observer()
        try:
            observer.schedule(self, self.root, recursive=True)
            observer.start()
        except OSError as exc:  # no such folder, or the inotify watch limit is reached
            logger.warning("not watching posts_dir=%s reason=%s", self.root, exc)
            return False
        self._observer = observer
        return True

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer = None

    def take(self) -> set[str] | None:
        """The paths changed since the last take, or None when everything must be looked at."""
        with self._lock:
            paths, everything = self._paths, self._everything
            self._paths, self._everything = set(), self._observer is None
        return None if everything else paths

    def pending(self) -> bool:
        """Whether a change is waiting to be taken."""
        with self._lock:
            return bool(self._paths) or self._everything

    def look_at_everything(self) -> None:
        """Make the next take answer None (a reload that took paths failed, say)."""
        with self._lock:
            self._everything = True

    def on_any_event(self, event: FileSystemEvent) -> None:
        kind = event.event_type
        if event.is_directory:
            if kind not in _FOLDER_EVENTS:
                return  # a folder's own "modified" only echoes its files' events
            with self._lock:
                self._everything = True
        else:
            if kind not in _FILE_EVENTS:
                return
            with self._lock:
                self._paths.add(self._spelled(event.src_path))
                if event.dest_path:
                    self._paths.add(self._spelled(event.dest_path))
        if self.on_change is not None:
            self.on_change()

    def _spelled(self, path: str | bytes) -> str:
        text = os.fsdecode(path)
        rel = os.path.relpath(os.path.abspath(text), os.path.abspath(self.root))
        return os.path.join(self.root, rel)
