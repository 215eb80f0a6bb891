"""Which files under posts_dir are posts, and how to tell that one changed without reading it.

Knows names and file states only: nothing of what a post contains.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from collections.abc import Iterator
from pathlib import Path

POST_SUFFIXES = (".md", ".markdown")
IGNORE_PATTERNS = (".*", "_*", "*~", "*.swp", ".#*")

FileState = tuple[int, int, int]  # (size, mtime_ns, inode): any write or replacement changes it


def is_ignored(name: str) -> bool:
    """Whether a file or folder name is skipped (hidden, underscored, editor leftovers): IGNORE_PATTERNS."""
    return name.startswith((".", "_")) or name.endswith(("~", ".swp"))


def scan(root: str, linked: list[str] | None = None) -> list[os.DirEntry[str]]:
    """Post files under root as DirEntry objects (scandir: no per-file path parsing), in no particular order.

    Symlinked folders are followed, each folder once (a link to a folder above it
    is no loop); their paths are added to ``linked`` when it is given. Anything
    with a post's name that is not a folder is listed, FIFOs included, for the
    reader to report.
    """
    found: list[os.DirEntry[str]] = []
    folders = [root]
    try:
        root_st = os.stat(root)
    except OSError:
        return found
    visited = {(root_st.st_dev, root_st.st_ino)}
    while folders:
        try:
            with os.scandir(folders.pop()) as entries:
                for entry in entries:
                    name = entry.name
                    if is_ignored(name):
                        continue
                    if entry.is_dir(follow_symlinks=True):
                        try:
                            st = entry.stat()
                        except OSError:
                            continue
                        if (st.st_dev, st.st_ino) in visited:
                            continue
                        visited.add((st.st_dev, st.st_ino))
                        if linked is not None and entry.is_symlink():
                            linked.append(entry.path)
                        folders.append(entry.path)
                    elif name.lower().endswith(POST_SUFFIXES):
                        found.append(entry)
        except OSError:
            continue
    return found


def is_post_path(root: str, path: str) -> bool:
    """Whether a path under root names a post file that ``scan`` would find (by name alone)."""
    rel = os.path.relpath(path, root)
    parts = rel.split(os.sep)
    if rel == "." or parts[0] == ".." or os.path.isabs(rel):
        return False
    return not any(is_ignored(part) for part in parts) and parts[-1].lower().endswith(POST_SUFFIXES)


def find_post_files(posts_dir: Path) -> Iterator[Path]:
    """Every post file under posts_dir, recursively, skipping ignored names (in no particular order)."""
    return (Path(entry.path) for entry in scan(str(posts_dir)))


def file_state(st: os.stat_result) -> FileState:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def fingerprint(states: Iterable[tuple[str, FileState]]) -> str:
    """One digest of every post file's path and state: equal digests, no file was added, removed or written."""
    digest = hashlib.sha1(usedforsecurity=False)
    for path, state in sorted(states):
        digest.update(f"{path}\0{state[0]} {state[1]} {state[2]}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()
