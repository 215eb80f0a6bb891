"""Which files under posts_dir are posts and which are assets, how to tell that one changed, and reading them.

Knows names, file states and bytes only: nothing of what a post contains. An
asset is any other file that is not ignored; of an image, only the header is
read, for its size in pixels.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable

from syndicator.core.digest import digest
from syndicator.model import LoadProblem
from syndicator.store.files import FileState
from syndicator.store.files import file_state
from syndicator.store.files import open_regular

POST_SUFFIXES = (".md", ".markdown")
NOT_REGULAR = "not a regular file (a FIFO, socket or device): not read"


def is_ignored(name: str) -> bool:
    """Whether a file or folder name is skipped: hidden, underscored, an editor's leftover (``*~``, ``*.swp``)."""
    return name.startswith((".", "_")) or name.endswith(("~", ".swp"))


def scan(
    root: str, linked: list[str] | None = None, assets: list[os.DirEntry[str]] | None = None
) -> list[os.DirEntry[str]]:
    """Post files under root as DirEntry objects (scandir: no per-file path parsing), in no particular order.

    Symlinked folders are followed, each folder once (a link to a folder above it
    is no loop); their paths are added to ``linked`` when it is given. Anything
    with a post's name that is not a folder is listed, FIFOs included, for the
    reader to report. Every other file that is not ignored is added to
    ``assets`` when it is given.
    """
    found: list[os.DirEntry[str]] = []
    try:
        root_st = os.stat(root)
    except OSError:
        return found
    visited = {(root_st.st_dev, root_st.st_ino)}
    folders = [root]
    while folders:
        try:
            with os.scandir(folders.pop()) as entries:
                for entry in entries:
                    if is_ignored(entry.name):
                        continue
                    if entry.is_dir(follow_symlinks=True):
                        _descend(entry, visited, folders, linked)
                    elif entry.name.lower().endswith(POST_SUFFIXES):
                        found.append(entry)
                    elif assets is not None:
                        assets.append(entry)
        except OSError:
            continue
    return found


def _descend(
    folder: os.DirEntry[str], visited: set[tuple[int, int]], folders: list[str], linked: list[str] | None
) -> None:
    """Queue a folder for scanning unless it was seen already (noting it in ``linked`` when it is a symlink)."""
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


def read_post_file(full: str, path: str, st: os.stat_result, limit: int) -> bytes | LoadProblem | None:
    """A post file's bytes, a problem (``path`` names it), or None when it changed while being read.

    ``st`` is the stat it was found with; more than ``limit`` bytes is a problem.
    """
    if not stat.S_ISREG(st.st_mode):
        return LoadProblem(path, 1, NOT_REGULAR)
    if st.st_size > limit:
        return LoadProblem(path, 1, f"file is {st.st_size} bytes, over max_post_bytes ({limit})")
    try:
        encoded = full.encode("utf-8")
    except UnicodeEncodeError:
        return LoadProblem(path, 1, "file name is not valid UTF-8: rename the file")
    try:
        # Non-blocking, so that a FIFO put in the file's place since the stat cannot hang the load.
        with open(os.open(encoded, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
            after = os.fstat(handle.fileno())
            if not stat.S_ISREG(after.st_mode):
                return LoadProblem(path, 1, NOT_REGULAR)
            data = handle.read(min(st.st_size, limit) + 1)
    except OSError as exc:
        return LoadProblem(path, 1, f"cannot read file: {exc.strerror}")
    if file_state(after) != file_state(st) or len(data) != after.st_size or len(data) > limit:
        return None
    return data


def is_asset_path(root: str, path: str) -> bool:
    """Whether a path under root names a file that would be an asset (by name alone): not ignored, not a post."""
    name = _scanned_name(root, path)
    return name is not None and not name.endswith(POST_SUFFIXES)


def asset_name(root: str, full: str) -> str | None:
    """An asset's path under root, with '/' (None when its name is not UTF-8: no URL can name it)."""
    rel = os.path.relpath(full, root).replace(os.sep, "/")
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return rel


def asset_states(root: str, found: Iterable[os.DirEntry[str]]) -> list[tuple[str, FileState]]:
    """The (full path, state) of the assets a scan found that can be published: regular files with UTF-8 names."""
    states = []
    for entry in found:
        try:
            st = entry.stat()
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
