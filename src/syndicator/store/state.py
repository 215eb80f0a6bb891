"""Everything under state_dir but the feed records: the one fingerprint, the ledger, the folders, the post cache.

The fingerprint (the installed code, the settings and the folder a command runs
in) marks every cache and stamp, so that new code or new settings never reuse
what old ones parsed or rendered.
"""

from __future__ import annotations

import fcntl
import functools
import json
import logging
import os
import pickle
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from typing import BinaryIO

from syndicator import __version__
from syndicator.config import Settings
from syndicator.core.ledger import Record
from syndicator.core.ledger import dumps
from syndicator.core.ledger import entry_line
from syndicator.core.ledger import loads
from syndicator.core.ledger import recover_ids
from syndicator.digest import digest_text
from syndicator.model import LoadProblem
from syndicator.store.files import replacing
from syndicator.store.files import write_atomic

logger = logging.getLogger(__name__)

LEDGER_FILE = "ledger.json"
FOLDERS_FILE = "folders.json"  # the folders of output_dir a build created (only those may be removed)
POSTS_CACHE_FILE = "posts.cache"
POSTS_CACHE_VERSION = 7
PACKAGE = Path(__file__).resolve().parent.parent


@functools.cache
def code_fingerprint(package: Path = PACKAGE) -> str:
    """The version plus the size and mtime of every file of the installed package (computed once a process)."""
    lines = [__version__]
    for file in sorted(package.rglob("*")):
        if file.is_file() and file.suffix != ".pyc":
            st = file.stat()
            lines.append(f"{file.relative_to(package)} {st.st_size} {st.st_mtime_ns}")
    return f"{__version__}+{digest_text(*lines)[:12]}"


def fingerprint(settings: Settings) -> str:
    """What every cache and stamp under state_dir is valid for: this code, these settings, this folder."""
    return f"{code_fingerprint()} {settings!r} {Path.cwd()}"


LOCK_FILE = "builder.lock"


class LockedError(Exception):
    """Another builder holds state_dir."""


class BuilderLock:
    """One builder per state_dir: an exclusive lock on state_dir/builder.lock, with the holder's pid in it.

    The lock is the kernel's (flock): a builder that dies, however it dies,
    lets go of it, so a stale lock file is simply taken over.
    """

    def __init__(self, settings: Settings) -> None:
        self.path = settings.state_dir / LOCK_FILE
        self._handle: BinaryIO | None = None

    def acquire(self, wait: float = 0.0) -> None:
        """Take the lock, waiting up to ``wait`` seconds; LockedError names the holder when it cannot."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+b")  # noqa: SIM115 - held open as long as the lock is held
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().decode("ascii", "replace").strip() or "?"
                    handle.close()
                    raise LockedError(
                        f"another syndicator (pid {holder}) is building with state_dir {self.path.parent}; "
                        "stop it or wait for it to finish"
                    ) from None
                time.sleep(0.1)
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n".encode())
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the file lets go of the lock
            self._handle = None

    def __enter__(self) -> BuilderLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class LedgerError(Exception):
    """The ledger is gone and the ids already published cannot be read back from output_dir."""


def read_ledger(settings: Settings) -> tuple[dict[str, Record], LoadProblem | None, dict[str, str]]:
    """The ledger in state_dir, a warning, and the published ids recovered when it is missing or unreadable.

    Without a ledger, the ids the feeds in output_dir carry (the site-wide feed
    and its archive pages hold every published post) are taken back by slug, so
    that readers see no duplicates; raise LedgerError when those feeds exist but
    cannot be read.
    """
    path = settings.state_dir / LEDGER_FILE
    try:
        return loads(path.read_bytes()), None, {}
    except FileNotFoundError:
        reason = "missing"
    except (OSError, ValueError, KeyError, AttributeError) as exc:
        reason = f"unreadable ({exc})"
    recovered = recover_published_ids(settings.output_dir)
    if reason == "missing" and not recovered:
        return {}, None, {}
    logger.warning("ledger %s path=%s recovered_ids=%d", reason, path, len(recovered))
    message = f"ledger {reason}; {len(recovered)} published ids recovered from the feeds in output_dir"
    return {}, LoadProblem(str(path), 1, message, fatal=False), recovered


def recover_published_ids(output_dir: Path) -> dict[str, str]:
    """Post slug -> id as published in output_dir's site-wide Atom feed and its archive pages (none: no feed)."""
    feed = output_dir / "all.atom"
    if not feed.is_file():
        return {}
    files = [feed, *sorted((output_dir / "archive").glob("*.atom"))]
    try:
        return recover_ids(file.read_bytes() for file in files)
    except (OSError, ValueError) as exc:
        raise LedgerError(
            f"the id ledger is missing and the ids published in {output_dir} cannot be read back ({exc}): "
            "restore state_dir, or empty output_dir to publish every post under a new id"
        ) from exc


def write_ledger(
    settings: Settings, ledger: dict[str, Record], line: Callable[[str, Record], bytes] = entry_line
) -> None:
    write_atomic(settings.state_dir / LEDGER_FILE, dumps(ledger, line))


def read_folders(settings: Settings) -> set[str]:
    """The folders of output_dir that builds created; none when the file is missing or not one."""
    try:
        document = json.loads((settings.state_dir / FOLDERS_FILE).read_bytes())
    except (OSError, ValueError):
        return set()
    return {str(f) for f in document} if isinstance(document, list) else set()


def write_folders(settings: Settings, folders: set[str]) -> None:
    data = json.dumps(sorted(folders), ensure_ascii=False, indent=0).encode("utf-8")
    write_atomic(settings.state_dir / FOLDERS_FILE, data)


def load_post_cache(settings: Settings) -> Any:
    """What the post cache saved when it was made by this code with these settings; otherwise None."""
    try:
        with open(settings.state_dir / POSTS_CACHE_FILE, "rb") as handle:
            mark = pickle.load(handle)  # noqa: S301 - our own file under state_dir
            if mark != f"{POSTS_CACHE_VERSION} {fingerprint(settings)}":
                return None  # made by other code or settings: not even read further
            return pickle.load(handle)  # noqa: S301
    except (OSError, EOFError, ValueError, TypeError, AttributeError, ImportError, pickle.UnpicklingError):
        return None


def save_post_cache(settings: Settings, entries: object) -> None:
    """Keep what the post cache saves for the next process (replaced atomically)."""
    with replacing(settings.state_dir / POSTS_CACHE_FILE) as handle:
        pickle.dump(f"{POSTS_CACHE_VERSION} {fingerprint(settings)}", handle, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(entries, handle, protocol=pickle.HIGHEST_PROTOCOL)
