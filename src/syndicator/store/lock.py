"""One builder per state_dir and per output_dir: the kernel's locks on a file in each.

Its own module, with nothing but the standard library: a command that finds the
lock held (and hands its work to the builder that holds it) imports no more.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING
from typing import BinaryIO

if TYPE_CHECKING:
    from syndicator.config import Settings

LOCK_FILE = "builder.lock"
OUTPUT_LOCK_FILE = ".syndicator.lock"  # in output_dir: a dot-file, never served


class LockedError(Exception):
    """Another builder holds state_dir or output_dir."""


class BuilderLock:
    """One builder per state_dir and per output_dir: an exclusive lock on state_dir/builder.lock (holding the
    holder's pid), then on output_dir/.syndicator.lock (empty: output_dir's bytes stay the build's own), so two
    state_dirs never build one output_dir at once.

    The locks are the kernel's (flock): a builder that dies, however it dies,
    lets go of them, so a stale lock file is simply taken over.
    """

    def __init__(self, settings: Settings) -> None:
        self.path = settings.state_dir / LOCK_FILE
        self.output = settings.output_dir / OUTPUT_LOCK_FILE
        self._handles: list[BinaryIO] = []

    def acquire(self, wait: float = 0.0) -> None:
        """Take the locks, waiting up to ``wait`` seconds; LockedError names the holder when it cannot."""
        deadline = time.monotonic() + wait
        try:
            self._handles.append(_locked(self.path, deadline, f"state_dir {self.path.parent}"))
            self._handles.append(_locked(self.output, deadline, f"output_dir {self.output.parent}", pid=False))
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        for handle in reversed(self._handles):
            handle.close()  # closing the file lets go of its lock
        self._handles = []

    def __enter__(self) -> BuilderLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class LockKeeper:
    """A running builder's hold on its locks, kept when their files go (``git clean -fdx``, ``rm -rf`` of state_dir or
    output_dir): the lock held is on a file no longer there, which a second builder would not see, so a file gone
    is made and locked again, by the next reload, before it writes. LockedError when another builder took it
    meanwhile: the reload writes nothing."""

    def __init__(self, settings: Settings) -> None:
        lock = BuilderLock(settings)
        self._files = {lock.path: f"state_dir {lock.path.parent}", lock.output: f"output_dir {lock.output.parent}"}
        self._seen: dict[Path, tuple[int, int] | None] = {}  # each lock file as first seen (the builder holds it)
        self._taken: dict[Path, BinaryIO] = {}  # those taken again

    def keep(self) -> None:
        """Take a lock again where its file is not the one first seen (the one the builder holds)."""
        for path, what in self._files.items():
            now = file_identity(path)
            if path not in self._seen:
                self._seen[path] = now
            elif now != self._seen[path]:
                handle = _locked(path, time.monotonic(), what, pid=path.name == LOCK_FILE)  # LockedError: taken
                if path in self._taken:
                    self._taken[path].close()
                self._taken[path], self._seen[path] = handle, file_identity(path)

    def release(self) -> None:
        """Let go of the locks taken again (the builder's own are let go of by whoever took them)."""
        for handle in self._taken.values():
            handle.close()
        self._taken = {}


def file_identity(path: Path | str) -> tuple[int, int] | None:
    """A file's (device, inode), or None when it is not there: whether a path still names the file once opened."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def private_folder(folder: Path) -> None:
    """Make state_dir (or a folder in it) owner-only when it is missing; take the other users' access away from one
    made before (its group's stays the operator's choice, as systemd's ``StateDirectoryMode`` sets it).

    What it holds is the service's own: WebSub subscribers' secrets, partners'
    token hashes, posts and files for partners only, mail links' key.
    """
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode & 0o007:
        with contextlib.suppress(OSError):  # not ours to change (another user's folder): as it is
            os.chmod(folder, mode & ~0o007)


def _locked(path: Path, deadline: float, what: str, *, pid: bool = True) -> BinaryIO:
    """A lock file, opened and locked (with this process's pid in it), waiting until ``deadline`` at most."""
    if path.name == LOCK_FILE:
        private_folder(path.parent)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+b")  # noqa: SIM115 - held open as long as the lock is held
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.seek(0)
                holder = handle.read().decode("ascii", "replace").strip()
                handle.close()
                named = f" (pid {holder})" if holder else ""
                raise LockedError(
                    f"another syndicator{named} is building with {what}; stop it or wait for it to finish"
                ) from None
            time.sleep(0.1)
    if pid:
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n".encode())
        handle.flush()
    return handle
