"""Write feed files atomically and describe them for serving (bytes, gzip, ETags, media type).

Bytes in, files out: knows nothing of posts or feeds.

Feed files are replaced by rename, so no reader ever sees a partial one; they
are not fsynced (they are derived from the posts, and a reload after a power
loss rewrites any file whose size or mtime is not what was recorded). State
files, the record of what was written, are fsynced by ``write_atomic``.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import struct
import tempfile
import threading
import zlib
from collections import OrderedDict
from collections.abc import Collection
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

MEDIA_TYPES = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
}
FILE_MODE = 0o644
GZIP_LEVEL = 1
PARALLEL_FROM_BYTES = 256 * 1024  # smaller batches are gzipped without starting threads


class OutputError(Exception):
    """A feed path would leave the output folder."""


@dataclass(frozen=True, slots=True)
class FeedFile:
    """One feed as served: its bytes, their gzip form, a strong ETag for each, and when they last changed."""

    body: bytes
    gzip_body: bytes
    etag: str
    gzip_etag: str
    last_modified: float
    media_type: str
    long_lived: bool = False  # its bytes are not expected to change (a full archive page)
    on_disk: bool = False  # body and gzip_body are not kept: read the file (and its .gz) when asked for

    @classmethod
    def make(
        cls,
        path: str,
        body: bytes,
        last_modified: float,
        gzip_body: bytes | None = None,
        *,
        long_lived: bool = False,
        etag: str | None = None,
    ) -> FeedFile:
        digest = etag if etag is not None else etag_of(body)
        return cls(
            body=body,
            gzip_body=gzip_body if gzip_body is not None else compress(body),
            etag=digest,
            gzip_etag=f"{digest}-gz",
            last_modified=last_modified,
            media_type=media_type(path),
            long_lived=long_lived,
        )

    @classmethod
    def stored(cls, path: str, etag: str, last_modified: float, *, long_lived: bool = False) -> FeedFile:
        """A file served from disk: only what the headers need is kept in memory."""
        return cls(b"", b"", etag, f"{etag}-gz", last_modified, media_type(path), long_lived, on_disk=True)


def etag_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def compress(body: bytes) -> bytes:
    """Deterministic gzip (no timestamp). Level 1: most of the saving at a fifth of level 6's time."""
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x04\xff"  # deflate, no name, mtime 0, fastest, OS unknown
_LAST_BLOCK = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)  # an empty final block
SEGMENT_CACHE_SIZE = 12_000
_segments: OrderedDict[int, tuple[bytes, bytes]] = OrderedDict()  # id(part) -> (part, its deflate segment)
_segments_lock = threading.Lock()


def _deflate_segment(data: bytes) -> bytes:
    """Raw deflate of data, flushed to a byte boundary without ending the stream: segments can be joined."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


def _shared_segment(part: bytes) -> bytes:
    with _segments_lock:
        known = _segments.get(id(part))
        if known is not None and known[0] is part:
            _segments.move_to_end(id(part))
            return known[1]
    segment = _deflate_segment(part)
    with _segments_lock:
        _segments[id(part)] = (part, segment)
        if len(_segments) > SEGMENT_CACHE_SIZE:
            _segments.popitem(last=False)
    return segment


def compress_parts(parts: Sequence[bytes]) -> bytes:
    """gzip of ``b"".join(parts)``, where parts are [head, *shared, tail] (or one whole body).

    The shared parts (a feed's entries, each in many files) are deflated once and
    their segments reused: a gzip member may hold any number of byte-aligned
    deflate segments, each independent of the others, as pigz writes them.
    """
    if len(parts) == 1:
        return compress(parts[0])
    crc = 0
    size = 0
    for part in parts:
        crc = zlib.crc32(part, crc)
        size += len(part)
    middle = [_shared_segment(part) for part in parts[1:-1]]
    deflated = [_deflate_segment(parts[0]), *middle, _deflate_segment(parts[-1]), _LAST_BLOCK]
    return b"".join([_GZIP_HEADER, *deflated, struct.pack("<II", crc, size & 0xFFFFFFFF)])


def compress_all(files: Mapping[str, Sequence[bytes]]) -> dict[str, bytes]:
    """gzip many files, each given as its parts, on every core (zlib releases the GIL); a few small ones right here."""
    if len(files) < 2 or sum(len(p) for parts in files.values() for p in parts) < PARALLEL_FROM_BYTES:
        return {path: compress_parts(parts) for path, parts in files.items()}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return dict(zip(files, pool.map(compress_parts, files.values()), strict=True))


def media_type(path: str) -> str:
    return MEDIA_TYPES.get(os.path.splitext(path)[1], "application/octet-stream")


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


def _write_temp(file: Path, data: bytes, *, fsync: bool) -> str:
    """Write data to a new temp file beside ``file`` (mode 0644); return its path."""
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def write_atomic(file: Path, data: bytes) -> None:
    """Replace a file with new bytes so that no reader ever sees a partial file (temp, fsync, rename)."""
    make_folder(file.parent)
    tmp = _write_temp(file, data, fsync=True)
    try:
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read(file: Path) -> bytes | None:
    try:
        return file.read_bytes()
    except OSError:
        return None


def file_state(file: Path | str) -> tuple[int, int] | None:
    """(size, mtime_ns) of a file, or None when it is missing."""
    try:
        st = os.stat(file)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


def write_changed(
    out_dir: Path,
    files: Mapping[str, bytes],
    known: Mapping[str, bytes] | None = None,
    created: set[str] | None = None,
) -> tuple[dict[str, tuple[int, int]], list[str]]:
    """Write the files whose bytes differ from what is on disk.

    Return each file's (size, mtime_ns) and the paths that were written.

    ``known`` holds bytes already known to be on disk (the last build's), which
    saves reading them back. Folders it makes are added to ``created``. A gzip
    twin is replaced before its file, so that a crash between the two leaves the
    plain file old (and recorded as such), never the twin.
    """

    root = out_dir.resolve()
    inside: dict[Path, bool] = {}
    states: dict[str, tuple[int, int]] = {}
    changed: dict[str, Path] = {}
    for path, data in files.items():
        file = _target(root, path, inside)
        on_disk = known.get(path) if known is not None else None
        if on_disk is None:
            on_disk = _read(file)
        state = file_state(file)
        if on_disk == data and state is not None and state[0] == len(data):
            states[path] = state
        else:
            changed[path] = file
    temps: dict[str, str] = {}
    try:
        for path, file in changed.items():
            make_folder(file.parent, root, created)
            temps[path] = _write_temp(file, files[path], fsync=False)
        for path, tmp in sorted(temps.items(), key=lambda item: not item[0].endswith(".gz")):
            file = changed[path]
            os.replace(tmp, file)
            state = file_state(file)
            if state is None:
                raise FileNotFoundError(file)
            states[path] = state
    finally:
        for tmp in temps.values():
            Path(tmp).unlink(missing_ok=True)
    return states, list(temps)


_TEMP_NAME = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp\Z")  # what _write_temp's mkstemp names look like


def prune(out_dir: Path, previous: Iterable[str], keep: Collection[str], folders: set[str]) -> list[str]:
    """Remove the files this builder wrote before (``previous``) that it no longer writes; return their paths.

    Nothing else under out_dir is touched, but for temp files of our own writes
    left by a crash beside the files we keep. A folder goes only when it is empty
    and in ``folders`` (those we created); it is then dropped from that set.
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
    ours = {os.path.dirname(rel) for rel in keep} | {os.path.dirname(rel) for rel in removed}
    for folder in ours:
        removed += _remove_temps(
            root, folder, {os.path.basename(rel) for rel in keep if os.path.dirname(rel) == folder}
        )
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


def _remove_temps(root: Path, folder: str, names: set[str]) -> list[str]:
    """Remove the temp files of writes of these names in one folder (a crash leaves them); return their paths."""
    removed: list[str] = []
    try:
        entries = list(os.scandir(root / folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match and match.group("name") in names and entry.is_file(follow_symlinks=False):
            os.unlink(entry.path)
            removed.append(f"{folder}/{entry.name}" if folder else entry.name)
    return removed
