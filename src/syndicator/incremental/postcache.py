"""The post cache: every post file's last parse, kept by file state, around the core's parser.

The cache wraps the reader; the reader never knows. A file is looked at again
when its (size, mtime, inode) changed, and parsed again only when its bytes did
(a git checkout resets mtimes). A file that now fails keeps its last good Post,
which stays published, unless what is read of it says it is private now. A cold
load parses half of the files in a forked copy of the process (two cores parse
twice as fast). The same scan finds the assets; each published post is bound to
the files it names (incremental.assets).
"""

from __future__ import annotations

import functools
import gc
import logging
import os
import stat
from collections.abc import Callable
from collections.abc import Collection
from dataclasses import dataclass
from dataclasses import replace
from pathlib import Path
from typing import Any

from syndicator.config import Settings
from syndicator.core.markup import Sanitizer
from syndicator.core.markup import slugify
from syndicator.core.parse import decode_post
from syndicator.core.parse import parse_post
from syndicator.digest import digest
from syndicator.incremental.assets import AssetIndex
from syndicator.incremental.assets import MediaBinder
from syndicator.incremental.forked import Forked
from syndicator.incremental.forked import Spawned
from syndicator.incremental.forked import can_fork
from syndicator.model import NO_MEDIA
from syndicator.model import Post
from syndicator.pickling import by_fields
from syndicator.problem import LoadProblem
from syndicator.store.files import FileState
from syndicator.store.files import file_state
from syndicator.store.sources import LEAVING_FOLDER
from syndicator.store.sources import Listings
from syndicator.store.sources import is_post_path
from syndicator.store.sources import printable
from syndicator.store.sources import read_post_file
from syndicator.store.sources import real_root
from syndicator.store.sources import scan

logger = logging.getLogger(__name__)

CHANGED_WHILE_READ = "file changed while it was read; it will be read again"
SAME_FILE = "the same file as {} (a link to it): published once, under that name"
UNSEEN = (-1, -1, -1)  # the state of a file read at the next look whatever its stat says
UNLISTED = "this folder cannot be listed (its permissions?): its posts and files stay as last published"
UNEXPECTED = "could not be read: an unexpected error (the log has its details); it is read again when it changes"
Progress = Callable[[str, int, int], None]  # (stage, done, total)
PROGRESS_STEP = 100


@by_fields
@dataclass(frozen=True, slots=True)
class Entry:
    """One post file as last read: its state, the digest of its bytes, what they parsed to, its last good Post."""

    state: FileState
    digest: str
    result: Post | LoadProblem
    last_good: Post | None


Found = tuple[str, os.stat_result, Entry | None]  # (path, stat, the entry it had) of a file to load


class _Names:
    """(path for messages, path under posts_dir) of each file a scan found (so under posts_dir), remembered."""

    def __init__(self, posts_dir: Path) -> None:
        self.posts_dir = posts_dir
        self.known: dict[str, tuple[str, str]] = {}

    def __call__(self, full: str) -> tuple[str, str]:
        names = self.known.get(full)
        if names is None:
            cwd = os.getcwd() + os.sep
            display = full[len(cwd) :] if os.path.isabs(full) and full.startswith(cwd) else full
            root = str(self.posts_dir) + os.sep
            source = full[len(root) :] if full.startswith(root) else Path(full).relative_to(self.posts_dir)
            names = self.known[full] = (printable(display), printable(str(source)))
        return names


class PostCache:
    """Keeps every post file's last parse, re-parsing only files that changed; ``parallel_from``: how many files to
    (re)load at once before a forked copy of the process takes half of them."""

    def __init__(self, settings: Settings, *, parallel_from: int = 2000) -> None:
        self.settings = settings
        self.parallel_from = parallel_from
        self.entries: dict[str, Entry] = {}
        self.parsed = 0
        self.dirty = False  # changed since it was restored or saved
        self._names_of = _Names(settings.posts_dir)
        self._result: tuple[list[Post], list[LoadProblem]] | None = None  # the last refresh's answer
        self._linked = False  # posts_dir has symlinked folders
        self._root = real_root(str(settings.posts_dir))  # what every file read must be inside
        self._folders: list[LoadProblem] = []  # links to folders outside posts_dir, folders that cannot be listed
        self._listings = Listings()  # each folder's entries, listed again when the folder changes
        self._slugify = functools.lru_cache(maxsize=65536)(slugify)  # names repeat across posts
        self._sanitizer = Sanitizer()  # one cleaner for every post this cache parses
        self.assets = AssetIndex(settings)
        self.media = MediaBinder(self.assets)

    def restore(self, saved: object) -> None:
        """Start from what a cache of an earlier process saved (``saved()``; anything else is ignored)."""
        if isinstance(saved, tuple) and len(saved) == 3 and all(isinstance(part, dict) for part in saved):
            self.entries, self.media.bindings, self.assets.known = saved

    def saved(self) -> tuple[dict[str, Any], ...]:
        """What the next process needs to start warm: the entries, the posts' bindings, the assets' facts (copies
        of those two, which change in place, so that they can be written while a reload runs)."""
        return (self.entries, dict(self.media.bindings), dict(self.assets.known))

    def load(self, full: str, st: os.stat_result, old: Entry | None) -> Entry:
        """Read one changed file; parse it unless its bytes are the ones already parsed.

        An error the reader does not expect (a bug of ours) is that file's problem, logged with its traceback.
        """
        try:
            return self._load(full, st, old)
        except Exception:  # the one catch-all around reading and parsing a file: logged with its traceback
            path = self._names_of(full)[0]
            logger.exception("post failed path=%s reason=unexpected error", path)
            result = LoadProblem(path, 1, UNEXPECTED)
            return Entry(file_state(st), "", result, old.last_good if old is not None else None)

    def _load(self, full: str, st: os.stat_result, old: Entry | None) -> Entry:
        path, source = self._names_of(full)
        state = file_state(st)
        public = old is not None and old.last_good is not None and not old.last_good.private
        try:
            data = read_post_file(full, path, st, self.settings.max_post_bytes, self._root, public=public)
        except OSError as exc:  # unreadable now (its permissions, a disk's error): read again at the next look
            data, state = LoadProblem(path, 1, f"cannot read file: {exc.strerror}", private=not public), UNSEEN
        if data is None:  # changed while read: not trusted, and read again next time
            result: Post | LoadProblem = LoadProblem(path, 1, CHANGED_WHILE_READ)
            content, state = "", UNSEEN
        elif isinstance(data, LoadProblem):
            result, content = data, ""
        else:
            content = digest(data)
            if old is not None and old.digest == content:
                return Entry(state, content, old.result, old.last_good)
            result = self._parse(data, path, source)
        if isinstance(result, LoadProblem):
            logger.warning("post failed path=%s line=%s reason=%s", result.path, result.line, result.message)
        last_good = result if isinstance(result, Post) else (old.last_good if old else None)
        return Entry(state, content, result, last_good)

    def _parse(self, data: bytes, path: str, source: str) -> Post | LoadProblem:
        text = decode_post(data, path)
        if isinstance(text, LoadProblem):
            return text
        self.parsed += 1
        return parse_post(text, path, self.settings, source, slug_of=self._slugify, sanitizer=self._sanitizer)

    def refresh(
        self, progress: Progress | None = None, changed: Collection[str] | None = None
    ) -> tuple[list[Post], list[LoadProblem]]:
        """Bring the cache up to date with posts_dir; return the posts to publish and the problems.

        ``changed``: the only paths that may have changed since the last refresh
        (from a watcher); None looks at every file. When no file changed, the
        lists are the ones of the last refresh.
        """
        self._root = real_root(str(self.settings.posts_dir))
        if changed is not None and self._result is not None and not self._linked:
            dirty = self._refresh_paths(changed)
        else:
            dirty = self._refresh_all(progress)
        self.dirty = self.dirty or dirty
        if dirty or self._result is None:
            self.media.keep_only(self.entries)
            self._result = _published(self.entries, self.media.bound)
        return self._result[0], [*self._result[1], *self._folders, *self.assets.site_problems()]

    def _refresh_all(self, progress: Progress | None) -> bool:
        """Stat every post file; (re)load those that changed. Whether anything did."""
        linked: list[str] = []
        outside: list[str] = []
        assets: list[os.DirEntry[str]] = []
        unlisted: list[str] = []
        found = scan(str(self.settings.posts_dir), linked, assets, outside, self._listings, unlisted)
        seen, to_load = _looked_at(found, self.entries)
        within = tuple(folder.rstrip(os.sep) + os.sep for folder in unlisted)
        if within:  # a folder that cannot be listed keeps its posts as they were, looked at again next time
            kept = (full for full in self.entries if full.startswith(within))
            seen.update((full, replace(self.entries[full], state=UNSEEN)) for full in kept)
        for (full, _st, _old), entry in zip(to_load, load_all(self, to_load, len(seen), progress), strict=True):
            seen[full] = entry
        # A watcher does not see into symlinked folders, nor a link's target change: always look at everything.
        self._linked = bool(linked or outside or unlisted)  # a folder listed again is seen by a full look only
        self._folders = _folder_problems(outside, unlisted, self.entries, self._names_of, self._root)
        changed = bool(to_load) or len(seen) != len(self.entries)
        self.entries = {full: entry for full, entry in seen.items() if entry is not None}
        return self.media.stale(self.assets.update_all(assets, within)) or changed

    def _refresh_paths(self, paths: Collection[str]) -> bool:
        """Look only at these paths (created, written, moved or deleted). Whether anything changed."""
        root = str(self.settings.posts_dir)
        media_changed = self.media.stale(self.assets.update_paths(paths))
        entries: dict[str, Entry] | None = None  # copied on the first change
        for full in paths:
            if not is_post_path(root, full):
                continue
            old = self.entries.get(full)
            try:
                st: os.stat_result | None = os.stat(full)
            except OSError:
                st = None
            if st is not None and not stat.S_ISDIR(st.st_mode) and old is not None and old.state == file_state(st):
                continue
            if (st is None or stat.S_ISDIR(st.st_mode)) and old is None:
                continue
            entries = entries if entries is not None else dict(self.entries)
            if st is None or stat.S_ISDIR(st.st_mode):
                del entries[full]
            else:
                entries[full] = self.load(full, st, old)
        if entries is None:
            return media_changed
        self.entries = entries
        return True

    def states(self) -> list[tuple[str, FileState]]:
        """Each known post file and asset with the (size, mtime_ns, inode) it had when it was read."""
        return [(path, entry.state) for path, entry in self.entries.items()] + self.assets.states()


def _looked_at(found: list[str], entries: dict[str, Entry]) -> tuple[dict[str, Entry | None], list[Found]]:
    """Each post file a scan found with its entry while its stat is the one read (else None), and those to load."""
    seen: dict[str, Entry | None] = {}
    to_load: list[Found] = []
    for full in found:
        try:
            st = os.stat(full)
        except OSError:
            continue  # vanished between listing and stat
        old = entries.get(full)
        if old is not None and old.state == file_state(st):
            seen[full] = old
        else:
            seen[full] = None
            to_load.append((full, st, old))
    return seen, to_load


def _folder_problems(
    outside: list[str], unlisted: list[str], entries: dict[str, Entry], names_of: _Names, root: str
) -> list[LoadProblem]:
    """A warning for each link to a folder outside posts_dir, private unless every post known in the folder it is
    in is public (or that is posts_dir); a problem for each folder that cannot be listed, private unless every post
    known in it is public: a folder's name may be a draft's, a page bundle's."""
    problems = []
    for full in outside:
        parent = os.path.dirname(full.rstrip(os.sep))
        private = parent != root.rstrip(os.sep) and _private_folder(parent, entries)
        problems.append(LoadProblem(names_of(full)[0], 1, LEAVING_FOLDER, fatal=False, private=private))
    for folder in unlisted:
        problems.append(LoadProblem(names_of(folder)[0], 1, UNLISTED, private=_private_folder(folder, entries)))
    return problems


def _private_folder(folder: str, entries: dict[str, Entry]) -> bool:
    """Whether a folder's name may be a private post's: it holds no post known, or one that is not public."""
    within = folder.rstrip(os.sep) + os.sep
    inside = [entry.result for full, entry in entries.items() if full.startswith(within)]
    return not inside or any(result.private for result in inside)


def _published(entries: dict[str, Entry], bound: Callable[[str, Post], Post]) -> tuple[list[Post], list[LoadProblem]]:
    """The posts to publish (each file's last good one, bound to its files, digested) and every file's problems."""
    posts: list[Post] = []
    problems: list[LoadProblem] = []
    twins = _same_files(entries)
    for full, entry in entries.items():
        if full in twins:  # one file is one post, under one name
            name, kept = entry.result.path, entries[twins[full]].result.path
            problems.append(LoadProblem(name, 1, SAME_FILE.format(kept), fatal=False, private=entry.result.private))
            continue
        post = entry.last_good
        if isinstance(entry.result, LoadProblem) and entry.result.private and post is not None and not post.private:
            post = None  # a public post whose file now fails saying it is a draft or for partners: withdrawn
        if post is not None and post.media is not NO_MEDIA:  # most posts name no media: no call for them
            post = bound(full, post)
        if isinstance(entry.result, LoadProblem):
            problems.append(entry.result)
        elif post is not None:
            problems.extend(post.warnings)
        if post is not None:
            post.digest  # noqa: B018 - made now, while the post is in the cache: saved with it, never made again
            posts.append(post)
    return posts, problems


def _same_files(entries: dict[str, Entry]) -> dict[str, str]:
    """Each post path whose file another path names too (a symlink, a hard link) -> the path that publishes it: the
    name that is no link, else the first in order."""
    first: dict[int, str] = {}
    groups: dict[int, list[str]] = {}
    for full, entry in entries.items():
        inode = entry.state[2]
        if inode > 0 and (other := first.setdefault(inode, full)) != full:
            groups.setdefault(inode, [other]).append(full)
    twins: dict[str, str] = {}
    for names in groups.values():
        kept = min(names, key=lambda name: (os.path.islink(name), name))
        twins.update((name, kept) for name in names if name != kept and _same_file(name, kept))
    return twins


def _same_file(one: str, other: str) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return False


def load_all(cache: PostCache, to_load: list[Found], total: int, progress: Progress | None) -> list[Entry]:
    """Load files, the second half beside this process when there are many (two cores parse twice as fast).

    Many files are loaded with the cycle collector paused: parsing makes
    millions of objects and almost no cycles, and the collector's full passes
    over them cost a seventh of a 100,000-post load.
    """
    if len(to_load) < cache.parallel_from or not gc.isenabled():
        return _load_all(cache, to_load, total, progress)
    gc.disable()
    try:
        return _load_all(cache, to_load, total, progress)
    finally:
        gc.enable()


def _load_all(cache: PostCache, to_load: list[Found], total: int, progress: Progress | None) -> list[Entry]:
    half = len(to_load) // 2
    child = _apart(cache, to_load[half:]) if half >= cache.parallel_from // 2 else None
    mine = to_load[:half] if child is not None else to_load
    done_before = total - len(to_load)
    loaded = []
    try:
        for done, (full, st, old) in enumerate(mine):
            if progress is not None and done % PROGRESS_STEP == 0:
                progress("reading posts", done_before + done * len(to_load) // max(len(mine), 1), total)
            loaded.append(cache.load(full, st, old))
    except BaseException:  # stopped: the other half is of no use
        if child is not None:
            child.stop()
        raise
    if child is not None:
        entries, parsed = child.result()
        loaded += entries
        cache.parsed += parsed
    if progress is not None:
        progress("reading posts", total, total)
    return loaded


def _apart(cache: PostCache, items: list[Found]) -> Forked[tuple[list[Entry], int]] | Spawned[tuple[list[Entry], int]]:
    """Files loaded beside this process: by a forked copy, or where it has threads (a server), a new interpreter
    (at 10,000 posts, a server's first load parses in 3.3 s instead of 5.7 s)."""
    if can_fork():
        return Forked(lambda: _load_counted(cache, items))
    return Spawned(_load_new, cache.settings, items)


def _load_new(settings: Settings, items: list[Found]) -> tuple[list[Entry], int]:
    """Load files in a new interpreter, by a cache of its own; how many were parsed."""
    return _load_counted(PostCache(settings), items)


def _load_counted(cache: PostCache, items: list[Found]) -> tuple[list[Entry], int]:
    """Load files; also say how many were parsed (run in a forked copy, whose count would be lost)."""
    before = cache.parsed
    entries = [cache.load(full, st, old) for full, st, old in items]
    parsed, cache.parsed = cache.parsed - before, before
    return entries, parsed
