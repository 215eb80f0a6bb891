"""Which files under posts_dir are posts and which are assets, how to tell that one changed, and reading them.

Knows names, file states and bytes only: nothing of what a post contains. An
asset is any other file that is not ignored; of an image, only the header is
read, for its size in pixels.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import time
from collections.abc import Collection
from collections.abc import Iterable
from typing import BinaryIO

from syndicator.core.privacy import UNCLOSED_FRONT
from syndicator.core.privacy import private_text
from syndicator.digest import digest
from syndicator.problem import LoadProblem
from syndicator.store.files import FileState
from syndicator.store.files import file_state
from syndicator.store.files import open_regular

POST_SUFFIXES = (".md", ".markdown")
NOT_REGULAR = "not a regular file (a FIFO, socket or device): not read"
LEAVES = "a link that leads out of posts_dir: not read"
LEAVING_FOLDER = "a link to a folder outside posts_dir: its files are not read"
_SYSTEM = ("/proc", "/sys")  # never read from, wherever posts_dir is
_NO_FOLLOW = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)


class Refused(OSError):
    """A file found under posts_dir that is not read: a link leading out of it, or not a regular file."""


class ChangedSinceSeen(OSError):
    """The file opened is not the one the scan saw (written, replaced, or reached through a new link)."""


def is_ignored(name: str) -> bool:
    """Whether a file or folder name is skipped: hidden, underscored, an editor's leftover (``*~``, ``*.swp``)."""
    return name.startswith((".", "_")) or name.endswith(("~", ".swp"))


def real_root(root: str) -> str:
    """posts_dir's real path (links resolved): what every file read from it must be inside."""
    return os.path.realpath(root)


def within(real: str, root: str) -> bool:
    """Whether a real path is ``root`` (a real path) or inside it, and not in /proc or /sys."""
    inside = real == root or real.startswith(root.rstrip(os.sep) + os.sep)
    return inside and not any(real == system or real.startswith(system + os.sep) for system in _SYSTEM)


def leaves(full: str, root: str) -> bool:
    """Whether a path found under posts_dir is a link whose real path is outside it (``root``, a real path)."""
    return os.path.islink(full) and not within(os.path.realpath(full), root)


Listed = tuple[list[os.DirEntry[str]], list[str], list[os.DirEntry[str]]]  # folders, post files' paths, assets
RACY_NS = 2 * 10**9  # a folder changed this close before it was listed may change again within its mtime's tick


class Listings:
    """Each folder's entries as ``scan`` last listed them, kept while the folder's state (size, mtime, inode) is
    unchanged: a name is added, removed or renamed only with its folder's mtime.

    Listing 10,000 post files cost a reload about 9 ms, and stat'ing each
    fresh entry about as much again; each file is still stat'ed, by its path,
    which tells an edit. A folder whose mtime was within two seconds of its listing is
    listed again next time (a file system with coarse times could change it
    within the same tick), as git's untracked cache does.
    """

    def __init__(self) -> None:
        self._known: dict[str, tuple[FileState, Listed]] = {}

    def listed(self, folder: str) -> Listed | None:
        """A folder's entries (None when it cannot be listed): the last ones while it is unchanged."""
        try:
            state = file_state(os.stat(folder))
        except OSError:
            return None
        known = self._known.get(folder)
        if known is not None and known[0] == state:
            return known[1]
        listed_at = time.time_ns()
        found = _listed(folder)
        if found is not None and state[1] < listed_at - RACY_NS:
            self._known[folder] = (state, found)
        else:
            self._known.pop(folder, None)
        return found

    def keep_only(self, folders: Collection[str]) -> None:
        """Forget the folders a scan no longer reached."""
        if len(folders) != len(self._known):
            self._known = {folder: known for folder, known in self._known.items() if folder in folders}


def _listed(folder: str) -> Listed | None:
    """A folder's subfolders (links to folders among them), post files and assets, but ignored names."""
    folders: list[os.DirEntry[str]] = []
    posts: list[str] = []  # paths: half the memory of entries, kept between reloads
    assets: list[os.DirEntry[str]] = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if is_ignored(entry.name):
                    continue
                if entry.is_dir(follow_symlinks=True):
                    folders.append(entry)
                elif entry.name.lower().endswith(POST_SUFFIXES):
                    posts.append(entry.path)
                else:
                    assets.append(entry)
    except OSError:
        return None
    return folders, posts, assets


def scan(
    root: str,
    linked: list[str] | None = None,
    assets: list[os.DirEntry[str]] | None = None,
    outside: list[str] | None = None,
    listings: Listings | None = None,
    unreadable: list[str] | None = None,
) -> list[str]:
    """The paths of the post files under root (scandir: no per-file path parsing), in no particular order.

    Symlinked folders are followed when they stay inside root, each folder once
    (a link to a folder above it is no loop); their paths are added to
    ``linked`` when it is given. A link to a folder outside root is not
    followed (its path is added to ``outside``). Anything with a post's name
    that is not a folder is listed, FIFOs included, for the reader to report.
    Every other file that is not ignored is added to ``assets`` when it is given.
    With ``listings``, an unchanged folder's entries are the last scan's: stat
    an asset by its path, never by its entry's ``stat()``, which keeps what it found first.
    A folder that is there but cannot be listed (its permissions) is added to ``unreadable``.
    """
    found: list[str] = []
    try:
        root_st = os.stat(root)
    except OSError:
        return found
    visited = {(root_st.st_dev, root_st.st_ino)}
    folders, reached = [root], []
    real = real_root(root)
    while folders:
        folder = folders.pop()
        reached.append(folder)
        listed = listings.listed(folder) if listings is not None else _listed(folder)
        if listed is None:
            if unreadable is not None and os.path.isdir(folder):
                unreadable.append(folder)
            continue
        subfolders, posts, others = listed
        for entry in subfolders:
            _descend(entry, visited, folders, (real, linked, outside))
        found += posts
        if assets is not None:
            assets += others
    if listings is not None:
        listings.keep_only(set(reached))
    return found


def _descend(
    folder: os.DirEntry[str],
    visited: set[tuple[int, int]],
    folders: list[str],
    links: tuple[str, list[str] | None, list[str] | None],
) -> None:
    """Queue a folder for scanning unless it was seen already (noting it in ``linked`` when it is a symlink).

    ``links``: posts_dir's real path, and the lists of links to folders inside it and outside it (those are skipped).
    """
    real, linked, outside = links
    if folder.is_symlink() and not within(os.path.realpath(folder.path), real):
        if outside is not None:
            outside.append(folder.path)
        return
    if _first_visit(folder, visited):
        folders.append(folder.path)
        if linked is not None and folder.is_symlink():
            linked.append(folder.path)


def _first_visit(folder: os.DirEntry[str], visited: set[tuple[int, int]]) -> bool:
    """Whether a folder (by device and inode, links followed) is seen for the first time; it is noted as seen."""
    try:
        st = folder.stat()
    except OSError:
        return False
    if (st.st_dev, st.st_ino) in visited:
        return False
    visited.add((st.st_dev, st.st_ino))
    return True


def _scanned_name(root: str, path: str) -> str | None:
    """The file name of a path under root that ``scan`` would not skip (lower case); None outside root or ignored."""
    rel = os.path.relpath(path, root)
    parts = rel.split(os.sep)
    if rel == "." or parts[0] == ".." or os.path.isabs(rel) or any(is_ignored(part) for part in parts):
        return None
    return parts[-1].lower()


def is_post_path(root: str, path: str) -> bool:
    """Whether a path under root names a post file that ``scan`` would find (by name alone)."""
    name = _scanned_name(root, path)
    return name is not None and name.endswith(POST_SUFFIXES)


def states_digest(states: Iterable[tuple[str, FileState]]) -> str:
    """One digest of every post file's path and state: equal digests, no file was added, removed or written."""
    lines = "".join(f"{path}\0{state[0]} {state[1]} {state[2]}\n" for path, state in sorted(states))
    return digest(lines.encode("utf-8", "surrogateescape"))


def printable(name: str) -> str:
    """A file name as it can be shown and stored: bytes that are not UTF-8 become U+FFFD."""
    return os.fsencode(name).decode("utf-8", "replace")


def open_source(full: str, root: str, seen: FileState) -> BinaryIO:
    """A file found under posts_dir, opened for reading only if it is the regular file the scan saw, inside root.

    ``root`` is posts_dir's real path, ``seen`` the file's state when it was
    found. The file is opened without following a link (O_NOFOLLOW) and
    non-blocking (a FIFO put in its place never hangs); a link is opened by its
    real path only when that is inside root. The open file must then be the one
    the scan saw, so a file or folder swapped for a link since then is not read.
    Refused, ChangedSinceSeen or another OSError otherwise.
    """
    try:
        fd = os.open(full, _NO_FOLLOW)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        real = os.path.realpath(full)
        if not within(real, root):
            raise Refused(LEAVES) from None
        fd = os.open(real, _NO_FOLLOW)
    handle = open(fd, "rb")  # noqa: SIM115 - the caller closes it
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        handle.close()
        raise Refused(NOT_REGULAR)
    if file_state(st) != seen:
        handle.close()
        raise ChangedSinceSeen(errno.ESTALE, "changed since it was found")
    return handle


def read_post_file(
    full: str, path: str, st: os.stat_result, limit: int, root: str, *, public: bool = False
) -> bytes | LoadProblem | None:
    """A post file's bytes, a problem (``path`` names it), or None when it changed while being read; an OSError
    when it cannot be read now (its permissions, a disk's error: worth trying again).

    ``st`` is the stat it was found with; more than ``limit`` bytes is a problem.
    ``root`` is posts_dir's real path: a link that leads out of it is not read.
    A problem is private when the file's front matter says so, or, when its
    words are not read at all, unless its last post was ``public`` (failing
    closed: its name may be a draft's).
    """
    if not stat.S_ISREG(st.st_mode):
        return LoadProblem(path, 1, NOT_REGULAR, private=not public)
    if st.st_size > limit:
        message = f"file is {st.st_size} bytes, over max_post_bytes ({limit})"
        return LoadProblem(path, 1, message, private=_private_head(full, root, st))
    try:
        full.encode("utf-8")
    except UnicodeEncodeError:
        return LoadProblem(path, 1, "file name is not valid UTF-8: rename the file", private=not public)
    try:
        with open_source(full, root, file_state(st)) as handle:
            data = handle.read(min(st.st_size, limit) + 1)
            after = os.fstat(handle.fileno())
    except Refused as exc:
        return LoadProblem(path, 1, str(exc), private=not public)
    except ChangedSinceSeen:
        return None
    if file_state(after) != file_state(st) or len(data) != after.st_size or len(data) > limit:
        return None
    return data


def _private_head(full: str, root: str, st: os.stat_result) -> bool:
    """Whether the front matter of a file too big to read names a privacy key (True when it cannot be read)."""
    try:
        with open_source(full, root, file_state(st)) as handle:
            head = handle.read(UNCLOSED_FRONT)
    except (OSError, Refused, ChangedSinceSeen):
        return True
    return private_text(head.decode("utf-8", "replace"))


def is_asset_path(root: str, path: str) -> bool:
    """Whether a path under root names a file that would be an asset (by name alone): not ignored, not a post."""
    name = _scanned_name(root, path)
    return name is not None and not name.endswith(POST_SUFFIXES)


def asset_name(root: str, full: str) -> str | None:
    """An asset's path under root, with '/' (None when its name is not UTF-8, or holds a control character: no URL
    names it as it is, and a server would write it raw into a header, as nginx's ``Surrogate-Key``)."""
    rel = os.path.relpath(full, root).replace(os.sep, "/")
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return None if _CONTROL.search(rel) else rel


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def asset_states(root: str, found: Iterable[os.DirEntry[str]]) -> list[tuple[str, FileState]]:
    """The (full path, state) of the assets a scan found that can be published: regular files with UTF-8 names."""
    states = []
    for entry in found:
        try:
            st = os.stat(entry.path)  # not entry.stat(): the entry may be an earlier scan's (``Listings``)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and asset_name(root, entry.path) is not None:
            states.append((entry.path, file_state(st)))
    return states


def image_size(full: str) -> tuple[int, int]:
    """An image's width and height in pixels as shown (EXIF rotation applied), from its header; (0, 0) unknown.

    imagesize reads the header only (no decoding); it is given an open file,
    never a name, since it fetches a name that looks like an http(s) URL.
    Imported here: it brings urllib.request and http.client, a fifth of the
    start of a ``build`` that finds nothing changed.
    """
    import imagesize

    try:
        with open_regular(full) as handle:
            width, height = imagesize.get(handle)
    except OSError:
        return 0, 0
    return (width, height) if width > 0 and height > 0 else (0, 0)


def audio_duration(full: str) -> float:
    """An audio file's length in seconds (mutagen: MP3, MP4/M4A, Ogg, FLAC...); 0.0 when it cannot tell.

    mutagen reads the headers (and, for an MP3 without a Xing header, the
    frames' index); it is given the open file, and the name only to tell the
    format by (an MP3 without tags has no other mark). Imported here, like
    imagesize: most builds read no audio file.
    """
    import mutagen

    try:
        with open_regular(full) as handle:
            found = mutagen.File(fileobj=handle, filename=full)
    except (OSError, mutagen.MutagenError):
        return 0.0
    length = getattr(getattr(found, "info", None), "length", 0.0)
    return float(length) if isinstance(length, int | float) and length > 0 else 0.0
