"""Everything under state_dir but the feed records: the one fingerprint, the ledger, the folders, the post cache.

The fingerprint (the installed code, the settings and the folder a command runs
in) marks every cache and stamp, so that new code or new settings never reuse
what old ones parsed or rendered. How a damaged file is taken is decided here
too: a cache that cannot be read is no cache (one warning); a state file that
cannot be read stops the command with one line naming it (StateError), but for
the ledger, whose ids are read back from the published feeds instead.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import pickle
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import TypeVar
from urllib.parse import urlsplit

from syndicator import __version__
from syndicator.config import Settings
from syndicator.core.catalog import TAXONOMIES
from syndicator.core.ledger import Record
from syndicator.core.ledgerfile import MARKS_PARTNERS
from syndicator.core.ledgerfile import apply_journal
from syndicator.core.ledgerfile import file_of
from syndicator.core.ledgerfile import journal_head
from syndicator.core.ledgerfile import read
from syndicator.core.ledgerfile import written_lines
from syndicator.core.recovery import LedgerError
from syndicator.core.recovery import Recovered
from syndicator.core.recovery import partners_marked
from syndicator.core.recovery import recover_ids
from syndicator.core.recovery import recover_stones
from syndicator.digest import digest_text
from syndicator.problem import LoadProblem
from syndicator.store.files import FileState
from syndicator.store.files import Replaced
from syndicator.store.files import file_state
from syndicator.store.files import replacing
from syndicator.store.files import state_of
from syndicator.store.files import write_atomic

logger = logging.getLogger(__name__)

T = TypeVar("T")

LEDGER_FILE = "ledger.json"
LEDGER_JOURNAL_FILE = "ledger.journal"  # the lines changed since ledger.json was written whole (core.ledgerfile)
FOLDERS_FILE = "folders.json"  # the folders of output_dir a build created (only those may be removed)
POSTS_CACHE_FILE = "posts.cache"
POSTS_CACHE_VERSION = 9
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


# What reading a damaged JSON document raises: bad bytes or syntax, a number too long, the wrong shape, too deep.
DAMAGED = (ValueError, LookupError, TypeError, AttributeError, RecursionError)


class StateError(Exception):
    """A file under state_dir is there but cannot be read: the command stops, naming it."""


def _why(exc: BaseException) -> str:
    """What went wrong, in one short line (a message may quote a whole document)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 120 else text[:119] + "…"


def read_state(path: Path, parse: Callable[[bytes], T], missing: T) -> T:
    """A state file parsed, or ``missing`` when there is none; StateError when it is there but damaged."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return missing
    except OSError as exc:
        raise StateError(f"state file {path} cannot be read ({exc.strerror or exc})") from None
    try:
        return parse(data)
    except DAMAGED as exc:
        raise damaged(path, exc) from None


def damaged(path: Path, exc: BaseException) -> StateError:
    return StateError(
        f"state file {path} is damaged ({_why(exc)}); restore it from a backup, or remove it to start it afresh"
    )


def read_cache(path: Path, parse: Callable[[bytes], T]) -> T | None:
    """A cache file parsed; None when there is none, or (with one warning) when it cannot be read."""
    try:
        return parse(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, *DAMAGED) as exc:
        logger.warning("cache unreadable, not used path=%s reason=%s", path, _why(exc))
        return None


def read_ledger(
    settings: Settings, *, adopting: bool = False
) -> tuple[dict[str, Record], LoadProblem | None, Recovered, dict[str, bytes]]:
    """The ledger in state_dir, a warning, and what output_dir shows was published when it is missing or
    unreadable (or ``adopting``: output_dir was another state_dir's, whose ledger this one's may lag); and each
    post's line in the file (``written_lines``).

    Without a ledger, the ids the feeds in output_dir carry (the site-wide feed
    and its archive pages hold every published post) are given back to the
    posts (core.recovery), so that readers see no duplicates, and their
    ``updated`` and the feeds' tombstones are kept; raise LedgerError when those
    feeds exist but cannot be read.
    """
    path = settings.state_dir / LEDGER_FILE
    try:
        with path.open("rb") as file:
            data, base = file.read(), file_state(os.fstat(file.fileno()))
        version, ledger = read(data)
        recovered = recover_published(settings) if adopting else Recovered()
        if version < MARKS_PARTNERS:
            ledger = partners_marked(ledger, _public_ids(settings, recovered))
        lines = written_lines(data, ledger)
        _journaled(settings, base, ledger, lines)
        return ledger, None, recovered, lines
    except FileNotFoundError:
        reason = "missing"
    except (OSError, *DAMAGED) as exc:
        reason = f"unreadable ({_why(exc)})"
    recovered = recover_published(settings)
    if reason == "missing" and not recovered:
        return {}, None, Recovered(), {}
    found = len(recovered.entries)
    logger.warning("ledger %s path=%s recovered_ids=%d tombstones=%d", reason, path, found, len(recovered.stones))
    message = f"ledger {reason}; {found} published ids recovered from the feeds in output_dir"
    return {}, LoadProblem(str(path), 1, message, fatal=False), recovered, {}


def recover_published(settings: Settings) -> Recovered:
    """What output_dir shows was published: each post's entry (from the site-wide Atom feed and its archive
    pages) and the tombstones of every Atom feed; nothing when there is no site-wide feed."""
    output_dir = settings.output_dir
    feed = output_dir / "all.atom"
    if not feed.is_file():
        return Recovered()
    files = [feed, *sorted((output_dir / "archive").glob("*.atom"))]
    feeds = [feed, *(f for kind in TAXONOMIES for f in sorted((output_dir / kind).glob("*.atom")))]
    try:
        entries = recover_ids((file.read_bytes() for file in files), urlsplit(settings.base_url).path)
        stones = recover_stones((f.relative_to(output_dir).with_suffix("").as_posix(), f.read_bytes()) for f in feeds)
    except (OSError, ValueError) as exc:
        raise LedgerError(
            f"the id ledger is missing and the ids published in {output_dir} cannot be read back ({exc}): "
            "restore state_dir, or empty output_dir to publish every post under a new id"
        ) from exc
    return Recovered(entries, stones)


def _public_ids(settings: Settings, recovered: Recovered) -> frozenset[str]:
    """The ids of the entries the public feeds in output_dir carry (``recovered``, when they were read already;
    none when they cannot be read)."""
    try:
        return frozenset(found.id for found in (recovered or recover_published(settings)).entries.values())
    except LedgerError as exc:
        logger.warning("public feeds unreadable output_dir=%s error=%s", settings.output_dir, exc)
        return frozenset()


def write_ledger(settings: Settings, lines: Sequence[bytes], replaced: Replaced | None = None) -> None:
    """Write the ledger file whole from its posts' lines, in source order (``Keeper`` keeps the unchanged ones); its
    journal goes after it (a crash between the two leaves a journal of another file: not applied)."""
    write_atomic(settings.state_dir / LEDGER_FILE, file_of(lines), replaced=replaced)
    (settings.state_dir / LEDGER_JOURNAL_FILE).unlink(missing_ok=True)


def append_ledger(settings: Settings, lines: Sequence[bytes]) -> bool:
    """Append posts' lines (``journal_line``'s) to the journal of the ledger file as it is now, and fsync them;
    False when there is no ledger file.

    A journal of another ledger file (a crash's) is started afresh.
    """
    base = state_of(settings.state_dir / LEDGER_FILE)
    if base is None:
        return False
    head = journal_head(base)
    with (settings.state_dir / LEDGER_JOURNAL_FILE).open("a+b") as journal:
        journal.seek(0)
        if journal.readline().rstrip(b"\n") != head:
            journal.truncate(0)
            lines = [head, *lines]
        journal.write(b"".join(line + b"\n" for line in lines))
        journal.flush()
        os.fsync(journal.fileno())
    return True


def _journaled(settings: Settings, base: FileState, ledger: dict[str, Record], lines: dict[str, bytes]) -> None:
    """Apply the journal of this ledger file (its state ``base``) to what was read of it (any other is not)."""
    try:
        data = (settings.state_dir / LEDGER_JOURNAL_FILE).read_bytes()
    except FileNotFoundError:
        return
    apply_journal(data, base, ledger, lines)


def read_folders(settings: Settings) -> set[str]:
    """The folders of output_dir that builds created; none when the file is missing (StateError: damaged)."""
    return read_state(settings.state_dir / FOLDERS_FILE, _folders, set())


def _folders(data: bytes) -> set[str]:
    document = json.loads(data)
    if not isinstance(document, list) or not all(isinstance(folder, str) for folder in document):
        raise ValueError("not a list of folders")
    return set(document)


def write_folders(settings: Settings, folders: set[str], replaced: Replaced | None = None) -> None:
    data = json.dumps(sorted(folders), ensure_ascii=False, indent=0).encode("utf-8")
    write_atomic(settings.state_dir / FOLDERS_FILE, data, replaced=replaced)


def load_post_cache(settings: Settings) -> tuple[Any, CacheFileState | None]:
    """What the post cache saved when it was made by this code with these settings (else None), and the file's state.

    The file is its mark, the whole cache as last written, then the segments
    appended since (``append_post_cache``), each applied in turn by ``apply``.
    A file that cannot be read is no cache, with one warning, and every post is
    parsed again: unpickling damaged bytes can raise almost anything
    (MemoryError or OverflowError for a length gone wrong, whatever a class
    called with damaged arguments raises).
    """
    path = settings.state_dir / POSTS_CACHE_FILE
    try:
        with open(path, "rb") as handle:
            mark = pickle.load(handle)  # noqa: S301 - our own file under state_dir
            if mark != f"{POSTS_CACHE_VERSION} {fingerprint(settings)}":
                return None, None  # made by other code or settings: not even read further
            saved = pickle.load(handle)  # noqa: S301
            st, segments = os.fstat(handle.fileno()), 0
            while handle.tell() < st.st_size:
                saved = apply(saved, pickle.load(handle))  # noqa: S301
                segments += 1
            return saved, CacheFileState((st.st_size, st.st_mtime_ns, st.st_ino), segments)
    except FileNotFoundError:
        return None, None
    except Exception as exc:  # noqa: BLE001 - see above: any failure to read a cache means no cache
        logger.warning("cache unreadable, not used path=%s reason=%s", path, _why(exc))
        return None, None


@dataclass(frozen=True, slots=True)
class CacheFileState:
    """The post cache's file as last read or written: its (size, mtime_ns, inode), and the segments after the whole."""

    state: tuple[int, int, int]
    segments: int


def apply(saved: Any, segment: Any) -> Any:
    """The cache a segment makes of the one before it: in each part, its changed items in and its removed ones out."""
    for part, (changed, removed) in zip(saved, segment, strict=True):
        part.update(changed)
        for key in removed:
            del part[key]
    return saved


def save_post_cache(settings: Settings, entries: object) -> CacheFileState:
    """Keep what the post cache saves for the next process, whole (replaced atomically); the new file's state."""
    with replacing(settings.state_dir / POSTS_CACHE_FILE) as handle:
        pickle.dump(f"{POSTS_CACHE_VERSION} {fingerprint(settings)}", handle, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(entries, handle, protocol=pickle.HIGHEST_PROTOCOL)
        handle.flush()
        st = os.fstat(handle.fileno())
    return CacheFileState((st.st_size, st.st_mtime_ns, st.st_ino), 0)


def append_post_cache(settings: Settings, segment: object, last: CacheFileState) -> CacheFileState | None:
    """Append a segment (what changed since) to the post cache's file, if it is the file as last read or written.

    None when it is not (another file, or changed since): the caller writes the cache whole. A write
    that fails (a full disk) leaves the file as it was; a segment cut short by a crash makes the file
    unreadable, which is no cache (see ``load_post_cache``).
    """
    try:
        with open(settings.state_dir / POSTS_CACHE_FILE, "ab", buffering=0) as handle:
            st = os.fstat(handle.fileno())
            if (st.st_size, st.st_mtime_ns, st.st_ino) != last.state:
                return None
            data = memoryview(pickle.dumps(segment, protocol=pickle.HIGHEST_PROTOCOL))
            try:
                while data:
                    data = data[handle.write(data) or 0 :]
                os.fsync(handle.fileno())
            except OSError:
                os.ftruncate(handle.fileno(), st.st_size)  # no segment cut short: the cache as it was
                raise
            st = os.fstat(handle.fileno())
    except FileNotFoundError:
        return None
    return CacheFileState((st.st_size, st.st_mtime_ns, st.st_ino), last.segments + 1)
