"""Write files atomically, write only those whose bytes changed, prune what a build no longer writes.

Bytes in, files out: knows file names, nothing of posts or feeds. The one
place that says what a file's state is and how a file is replaced.

Feed files are replaced by rename, so no reader ever sees a partial one; they
are not fsynced (they are derived from the posts, and a reload after a power
loss rewrites any file whose size or mtime is not what was recorded). State
files, the record of what was written, are fsynced by ``write_atomic``. A
builder keeps the files it replaced by a second name until its reload has
answered (``Replaced``).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import stat
import tempfile
import threading
from collections.abc import Collection
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from syndicator.served import etag_hasher

FILE_MODE = 0o644
TEMP_NAME_BYTES = 200  # of a file's name in its temp file's, which adds a dot, 8 random characters and ".tmp"
FileState = tuple[int, int, int]  # (size, mtime_ns, inode): any write or replacement changes it


class OutputError(Exception):
    """A feed path would leave the output folder."""


def target(out_dir: Path, path: str) -> Path:
    """The file for a feed path, refusing any path that would escape out_dir."""
    return _target(out_dir.resolve(), path, {})


def _target(root: Path, path: str, inside: dict[Path, bool]) -> Path:
    """``target`` under an already resolved root; ``inside`` remembers folders already checked."""
    if not path or path.startswith("/") or os.path.normpath(path) != path or path.split("/", 1)[0] == "..":
        raise OutputError(f"feed path {path!r} is outside {root}")
    full = root / path
    folder = full.parent
    if folder not in inside:
        inside[folder] = folder == root or folder.resolve().is_relative_to(root)  # a symlink may lead out
    if not inside[folder]:
        raise OutputError(f"feed path {path!r} is outside {root}")
    return full


def make_folder(folder: Path, root: Path | None = None, created: set[str] | None = None) -> None:
    """Create a folder and its missing parents; note those under ``root`` in ``created`` (paths under root)."""
    missing: list[Path] = []
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for new in reversed(missing):
        new.mkdir(exist_ok=True)
        if created is not None and root is not None and new != root and new.is_relative_to(root):
            created.add(new.relative_to(root).as_posix())


def _temp_start(file: Path) -> str:
    """How a temp file's name beside ``file`` starts: a dot and the file's name, cut so it stays within 255 bytes."""
    return "." + file.name.encode("utf-8", "surrogateescape")[:TEMP_NAME_BYTES].decode("utf-8", "ignore")


class Replaced:
    """The files replaced by a reload's writes, each kept by a second name beside it until ``release``.

    A rename over a file frees that file's blocks within the rename when no
    other name holds them: on ext4 0.2-0.6 ms a feed file, about 2 ms for a
    5 MB ledger, paid before the reload can answer. With a second name taken
    first the rename takes microseconds, and the blocks are freed when the
    builder releases them, after its answer. That name is a temp file's, so
    one a crash leaves is removed as a crash's temp files are (``prune``,
    ``remove_temps``).
    """

    def __init__(self) -> None:
        self._names: set[str] = set()
        self._lock = threading.Lock()  # a reload's writer thread keeps, its follow-up may release meanwhile

    def __contains__(self, path: str) -> bool:
        return path in self._names

    def keep(self, file: Path) -> None:
        """Before ``file`` is replaced: a second name for it (none when it is missing or the folder takes no links)."""
        aside = os.path.join(file.parent, f"{_temp_start(file)}.{secrets.token_hex(4)}.tmp")
        try:
            os.link(file, aside, follow_symlinks=False)
        except OSError:
            return
        with self._lock:
            self._names.add(aside)

    def release(self) -> None:
        """Remove the second names: the replaced files' blocks are freed now (one that cannot go stays a temp file)."""
        with self._lock:
            names, self._names = self._names, set()
        for name in names:
            try:
                os.unlink(name)
            except OSError:
                continue


@contextmanager
def _temp_beside(file: Path, *, fsync: bool, mode: int = FILE_MODE) -> Iterator[tuple[BinaryIO, str]]:
    """A new temp file beside ``file`` (mode 0644 unless told) to write into; removed again if the block fails."""
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f"{_temp_start(file)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle, tmp
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_temp(file: Path, data: bytes, *, fsync: bool) -> str:
    """Write data to a new temp file beside ``file``; return its path."""
    with _temp_beside(file, fsync=fsync) as (handle, tmp):
        handle.write(data)
    return tmp


@contextmanager
def replacing(file: Path, mode: int = FILE_MODE, replaced: Replaced | None = None) -> Iterator[BinaryIO]:
    """A handle whose bytes replace ``file`` when the block ends (temp, fsync, rename): no reader sees part of it.

    ``replaced``: keeps the file replaced by a second name, to be released later.
    """
    make_folder(file.parent)
    with _temp_beside(file, fsync=True, mode=mode) as (handle, tmp):
        yield handle
    try:
        if replaced is not None:
            replaced.keep(file)
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(file: Path, data: bytes, mode: int = FILE_MODE, replaced: Replaced | None = None) -> None:
    """Replace a file with new bytes so that no reader ever sees a partial file (temp, fsync, rename).

    The new file's permissions are ``mode`` (0644: nginx and the server read what is written).
    """
    with replacing(file, mode, replaced) as handle:
        handle.write(data)


def write_into(out_dir: Path, path: str, data: bytes, created: set[str] | None = None) -> tuple[int, int]:
    """Write bytes to ``path`` under out_dir by rename (noting the folders made in ``created``); its size and mtime."""
    root = out_dir.resolve()
    file = _target(root, path, {})
    make_folder(file.parent, root, created)
    with replacing(file) as handle:
        handle.write(data)
    state = state_of(file)
    if state is None:
        raise FileNotFoundError(file)
    return state[0], state[1]


_COPY_CHUNK = 1024 * 1024
NS = 1_000_000_000  # nanoseconds a second


def open_regular(path: str) -> BinaryIO:
    """A regular file opened for reading; OSError for anything else (a FIFO put in its place never blocks)."""
    handle = open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb")  # noqa: SIM115 - the caller closes it
    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
        handle.close()
        raise OSError(f"{path} is not a regular file")
    return handle


def copy_atomic(
    reader: BinaryIO, out_dir: Path, path: str, created: set[str] | None = None
) -> tuple[FileState, tuple[int, int], str]:
    """Copy an open file to ``path`` under out_dir, replacing it by rename (no reader sees part of it).

    Return the source's state as copied (all -1 when it changed while being
    copied: copy it again later), the copy's (size, mtime_ns) and its strong
    ETag (the digest of its bytes, as ``served.etag_of`` makes it, read as it is copied).
    The caller opened the source (and closes it).
    """
    root = out_dir.resolve()
    file = _target(root, path, {})
    make_folder(file.parent, root, created)
    checksum = etag_hasher()
    with _temp_beside(file, fsync=False) as (handle, tmp):
        before = file_state(os.fstat(reader.fileno()))
        while chunk := reader.read(_COPY_CHUNK):
            checksum.update(chunk)
            handle.write(chunk)
        after = file_state(os.fstat(reader.fileno()))
    try:
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    state = state_of(file)
    if state is None:
        raise FileNotFoundError(file)
    return (before if before == after else (-1, -1, -1)), state[:2], checksum.hexdigest()


def _read(file: Path) -> bytes | None:
    try:
        return file.read_bytes()
    except OSError:
        return None


def file_digest(path: str) -> str:
    """The sha256 of a file's bytes, read in chunks ("" when it cannot be read)."""
    checksum = hashlib.sha256()
    try:
        with open(path, "rb") as file:
            while chunk := file.read(1024 * 1024):
                checksum.update(chunk)
    except OSError:
        return ""
    return checksum.hexdigest()


def file_state(st: os.stat_result) -> FileState:
    """A file's (size, mtime_ns, inode) from its stat."""
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def state_of(file: Path | str) -> FileState | None:
    """A file's (size, mtime_ns, inode), or None when it is missing."""
    try:
        return file_state(os.stat(file))
    except OSError:
        return None


def read_twins(out_dir: Path, paths: Iterable[str], known: Mapping[str, bytes]) -> dict[str, bytes]:
    """``known`` with the gzip twins on disk of these files (``<path>.gz``) it does not hold, read once: given to
    ``write_changed`` as known, they are not read again."""
    root, found, inside = out_dir.resolve(), dict(known), dict[Path, bool]()
    for path in paths:
        if f"{path}.gz" not in found and (on_disk := _read(_target(root, f"{path}.gz", inside))) is not None:
            found[f"{path}.gz"] = on_disk
    return found


def write_changed(
    out_dir: Path,
    files: Mapping[str, bytes],
    known: Mapping[str, bytes] | None = None,
    created: set[str] | None = None,
    replaced: Replaced | None = None,
) -> tuple[dict[str, tuple[int, int]], list[str]]:
    """Write the files whose bytes differ from what is on disk.

    Return each file's (size, mtime_ns) and the paths that were written.

    ``known`` holds bytes already known to be on disk (the last build's), which
    saves reading them back. Folders it makes are added to ``created``. A gzip
    twin is replaced before its file, so that a crash between the two leaves the
    plain file old (and recorded as such), never the twin. ``replaced`` keeps
    the files replaced by a second name, to be released later.
    """

    root = out_dir.resolve()
    inside: dict[Path, bool] = {}
    states: dict[str, tuple[int, int]] = {}
    changed: dict[str, tuple[Path, tuple[int, int, int] | None]] = {}
    for path, data in files.items():
        file = _target(root, path, inside)
        on_disk = known.get(path) if known is not None else None
        if on_disk is None:
            on_disk = _read(file)
        state = state_of(file)
        if on_disk == data and state is not None and state[0] == len(data):
            states[path] = state[:2]
        else:
            changed[path] = (file, state)
    temps: dict[str, str] = {}
    try:
        for path, (file, before) in changed.items():
            make_folder(file.parent, root, created)
            temps[path] = _write_temp(file, files[path], fsync=False)
            _dated_after(temps[path], before)
        for path, tmp in sorted(temps.items(), key=lambda item: not item[0].endswith(".gz")):
            file = changed[path][0]
            if replaced is not None:
                replaced.keep(file)
            os.replace(tmp, file)
            state = state_of(file)
            if state is None:
                raise FileNotFoundError(file)
            states[path] = state[:2]
    finally:
        for tmp in temps.values():
            Path(tmp).unlink(missing_ok=True)
    return states, list(temps)


def _dated_after(tmp: str, before: tuple[int, int, int] | None) -> None:
    """Date a new version of a file a second after the one it replaces when both would look alike to a server that
    tells versions by size and mtime in seconds (nginx's ETag and Last-Modified): two builds within a second of
    bytes of one length answered a 304 for the old bytes."""
    st = os.stat(tmp)
    if before is not None and st.st_size == before[0] and st.st_mtime_ns // NS <= before[1] // NS:
        os.utime(tmp, ns=(st.st_atime_ns, (before[1] // NS + 1) * NS))


_TEMP_NAME = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp\Z")  # what _write_temp's mkstemp names look like


def prune(
    out_dir: Path, previous: Iterable[str], keep: Collection[str], folders: set[str], replaced: Replaced | None = None
) -> list[str]:
    """Remove the files this builder wrote before (``previous``) that it no longer writes; return their paths.

    Nothing else under out_dir is touched, but for temp files of our own writes
    left by a crash beside the files we keep (not those ``replaced`` keeps). A
    folder goes only when it is empty and in ``folders`` (those we created); it
    is then dropped from that set.
    """
    removed: list[str] = []
    root = out_dir.resolve()
    if not root.is_dir():
        return removed
    for rel in sorted(set(previous).difference(keep)):
        try:
            file = _target(root, rel, {})
        except OutputError:
            continue
        if file.is_file() and not file.is_symlink():
            file.unlink()
            removed.append(rel)
    for folder, kept in _by_folder(keep, removed).items():
        removed += _remove_temps(root, folder, kept, replaced)
    for folder in sorted(folders, key=lambda f: f.count("/"), reverse=True):
        full = root / folder
        try:
            full.rmdir()  # only when empty
        except FileNotFoundError:
            folders.discard(folder)
        except OSError:
            continue
        else:
            folders.discard(folder)
    return sorted(removed)


def _by_folder(keep: Iterable[str], removed: Iterable[str]) -> dict[str, set[str]]:
    """The names kept in each folder that holds a kept or a removed file."""
    names: dict[str, set[str]] = {os.path.dirname(rel): set() for rel in removed}
    for rel in keep:
        folder, name = os.path.split(rel)
        names.setdefault(folder, set()).add(name)
    return names


def remove_temps(folder: Path, names: set[str], replaced: Replaced | None = None) -> list[str]:
    """Remove the temp files of writes of these names in a folder (a crash leaves them), but those ``replaced``
    keeps; return their names."""
    return _remove_temps(folder, "", names, replaced)


def _remove_temps(root: Path, folder: str, names: set[str], replaced: Replaced | None = None) -> list[str]:
    """Remove the temp files of writes of these names in one folder (a crash leaves them), but those ``replaced``
    keeps; return their paths."""
    removed: list[str] = []
    try:
        entries = list(os.scandir(root / folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match and match.group("name") in names and entry.is_file(follow_symlinks=False):
            if replaced is not None and entry.path in replaced:
                continue
            os.unlink(entry.path)
            removed.append(f"{folder}/{entry.name}" if folder else entry.name)
    return removed
