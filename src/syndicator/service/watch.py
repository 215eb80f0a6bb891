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
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent
from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer

logger = logging.getLogger(__name__)

_WRITING_EVENTS = frozenset({"created", "modified"})  # a write may still be going on
_DONE_EVENTS = frozenset({"moved", "deleted", "closed"})  # the file is whole (closed: inotify's close_write)
_FOLDER_EVENTS = frozenset({"created", "moved", "deleted"})
CHANGE_QUIET = 0.2  # seconds without a new event before a reload looks at files that are whole
WRITE_QUIET = 2.0  # seconds a file written to, and not closed since, is left alone (a write in several steps)


class PostWatcher(FileSystemEventHandler):
    """Collects the post folder's changed paths, spelled as the post cache spells them (posts_dir/...)."""

    def __init__(self, posts_dir: Path, on_change: Callable[[float], None] | None = None) -> None:
        """``on_change(quiet)`` asks for a reload ``quiet`` seconds after the latest event."""
        super().__init__()
        self.root = str(posts_dir)
        self.on_change = on_change
        self._lock = threading.Lock()
        self._paths: set[str] = set()
        self._writing: dict[str, float] = {}  # path -> when it was last written to, while it is not closed
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
        """The paths changed since the last take, or None when everything must be looked at.

        A file written to in the last WRITE_QUIET seconds and not closed since is
        held back for a later take (and a reload is asked for then): it may be
        half written.
        """
        now = time.monotonic()
        with self._lock:
            self._writing = {p: when for p, when in self._writing.items() if now - when < WRITE_QUIET}
            held = set(self._writing)
            paths, everything = self._paths - held, self._everything
            self._paths, self._everything = self._paths & held, self._observer is None
            wait = max((WRITE_QUIET - (now - self._writing[p]) for p in held), default=0.0)
        if held and self.on_change is not None:
            self.on_change(wait + CHANGE_QUIET)
        return None if everything else paths

    def pending(self) -> bool:
        """Whether a change is waiting to be taken."""
        with self._lock:
            return bool(self._paths) or self._everything

    def waiting(self) -> bool:
        """Whether a whole file's change waits to be taken (one that came while a reload ran, say)."""
        with self._lock:
            return bool(self._paths - self._writing.keys())

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
            quiet = CHANGE_QUIET
        else:
            if kind not in _WRITING_EVENTS and kind not in _DONE_EVENTS:
                return
            source = self._spelled(event.src_path)
            with self._lock:
                self._paths.add(source)
                if kind in _WRITING_EVENTS:
                    self._writing[source] = time.monotonic()
                else:
                    self._writing.pop(source, None)
                if event.dest_path:
                    self._paths.add(self._spelled(event.dest_path))
                    self._writing.pop(self._spelled(event.dest_path), None)
                quiet = CHANGE_QUIET if not self._writing else WRITE_QUIET
        if self.on_change is not None:
            self.on_change(quiet)

    def _spelled(self, path: str | bytes) -> str:
        text = os.fsdecode(path)
        rel = os.path.relpath(os.path.abspath(text), os.path.abspath(self.root))
        return os.path.join(self.root, rel)
