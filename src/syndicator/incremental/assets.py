"""The assets under posts_dir and what each post makes of them: facts kept by file state, bindings by post.

The index knows every asset's file state from the post cache's scan; an
asset's facts (size, media type, pixels, seconds) are read once per file
state: an image's header only, an audio file's headers and frame index. A
link that leads out of posts_dir is no asset: the index keeps it apart, and a
post naming it is told so. The binder gives each parsed
post the facts of the files it names (core.media.bind), and binds it again only
when the post was parsed again or one of those files' facts changed.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Collection
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from syndicator.config import Settings
from syndicator.core.assets import config_images
from syndicator.core.assets import media_type
from syndicator.core.assets import site_image_files
from syndicator.core.media import bind
from syndicator.core.media import paths
from syndicator.core.podcasts import show_problems
from syndicator.core.thumbnails import ImageLimits
from syndicator.model import LEAVING
from syndicator.model import AssetFacts
from syndicator.model import Post
from syndicator.problem import LoadProblem
from syndicator.store.files import FileState
from syndicator.store.files import file_digest
from syndicator.store.files import file_state
from syndicator.store.sources import asset_name
from syndicator.store.sources import asset_states
from syndicator.store.sources import audio_duration
from syndicator.store.sources import image_size
from syndicator.store.sources import is_asset_path
from syndicator.store.sources import leaves
from syndicator.store.sources import real_root

Located = tuple[str, FileState]  # (full path, file state) of an asset


class AssetIndex:
    """Every asset under posts_dir by path (with '/'): where it is and its file state; its facts by file state."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.limits = ImageLimits.of(settings)
        self.root = str(settings.posts_dir)
        self.files: dict[str, Located] = {}  # the files that may be published
        self.leaving: dict[str, Located] = {}  # links that lead out of posts_dir: never published
        self.known: dict[str, tuple[FileState, AssetFacts]] = {}  # path -> facts and the file state they are of

    def update_all(self, found: Iterable[os.DirEntry[str]], unlisted: tuple[str, ...] = ()) -> set[str]:
        """Take every asset a scan found, and keep those it knew under folders it could not list (``unlisted``: their
        paths ending with a separator); return the paths added, removed or changed."""
        found = list(found)
        links = {entry.path for entry in found if entry.is_symlink()}
        real = real_root(self.root) if links else ""
        files: dict[str, Located] = {}
        leaving: dict[str, Located] = {}
        for full, state in asset_states(self.root, found):
            into = leaving if full in links and leaves(full, real) else files
            into[asset_name(self.root, full) or full] = (full, state)
        files.update(self._site_files())
        if unlisted:  # as last seen: by this index, else by the facts a cache of an earlier process restored
            kept = {path: (os.path.join(self.root, path), state) for path, (state, _facts) in self.known.items()}
            kept.update(self.files)
            files.update((path, located) for path, located in kept.items() if located[0].startswith(unlisted))
        now, before = _marked(files, leaving), _marked(self.files, self.leaving)
        changed = {path for path in now.keys() | before.keys() if now.get(path) != before.get(path)}
        self.files, self.leaving = files, leaving
        self.known = {path: known for path, known in self.known.items() if path in files}
        return changed

    def _site_files(self) -> dict[str, Located]:
        """The site's icon and logo kept outside posts_dir (the config file's folder): looked at by every full scan."""
        files = {}
        for path, value in site_image_files(self.settings).items():
            full = os.path.realpath(value)  # opened by its real path: a link to it is the operator's own choice
            try:
                st = os.stat(full)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                files[path] = (full, file_state(st))
        return files

    def update_paths(self, fulls: Iterable[str]) -> set[str]:
        """Look at these paths only (a watcher's); return the asset paths added, removed or changed."""
        changed = set()
        real = real_root(self.root)
        for full in fulls:
            name = asset_name(self.root, full) if is_asset_path(self.root, full) else None
            if name is None:
                continue
            try:
                st: os.stat_result | None = os.stat(full)
            except OSError:
                st = None
            located = (full, file_state(st)) if st is not None and stat.S_ISREG(st.st_mode) else None
            leaving = located is not None and leaves(full, real)
            now = (None, located) if leaving else (located, None)
            if now != (self.files.get(name), self.leaving.get(name)):
                changed.add(name)
                self.files.pop(name, None)
                self.leaving.pop(name, None)
                if located is not None:
                    (self.leaving if leaving else self.files)[name] = located
        return changed

    def facts(self, path: str) -> AssetFacts | None:
        """What an asset is (None: no such asset); an image's pixels are read from its header once per file state."""
        if path in self.leaving:
            return LEAVING
        located = self.files.get(path)
        if located is None:
            return None
        full, state = located
        known = self.known.get(path)
        if known is not None and known[0] == state:
            return known[1]
        kind = media_type(path)
        width, height = image_size(full) if kind.startswith("image/") else (0, 0)
        duration = audio_duration(full) if kind.startswith("audio/") else 0.0
        facts = AssetFacts(state[0], kind, width, height, duration=duration)
        if self.limits.over(facts):  # its resized copy is named by its digest
            facts = replace(facts, digest=file_digest(full))
        self.known[path] = (state, facts)
        return facts

    def states(self) -> list[tuple[str, FileState]]:
        """Each asset's full path and file state, links leading out included (for the build stamp)."""
        return [*self.files.values(), *self.leaving.values()]

    def site_problems(self) -> list[LoadProblem]:
        """A warning for an image the config names that is a missing file (or a link leading out of posts_dir), and
        the podcasts' own (core.podcasts: categories Apple does not know, artwork of the wrong size).
        """
        folder, outside = Path(self.root), site_image_files(self.settings)
        shows = {f"{show.key}.image": (show.source, show.line_of("image")) for show in self.settings.podcasts.shows}
        missing = [
            LoadProblem(
                *shows.get(name, (outside.get(path) or str(folder / path), 1)),
                f"{name} names {_missing(outside.get(path) or path, path in self.leaving)}",
                fatal=False,
            )
            for name, _url, path in config_images(self.settings)
            if path and path not in self.files
        ]
        return missing + show_problems(self.settings, self.facts) if self.settings.podcasts else missing


def _marked(files: dict[str, Located], leaving: dict[str, Located]) -> dict[str, tuple[Located, bool]]:
    """Every asset path with where it is, and whether it is a link leading out of posts_dir."""
    return {path: (located, False) for path, located in files.items()} | {
        path: (located, True) for path, located in leaving.items()
    }


def _missing(path: str, leaving: bool) -> str:
    return f"a link that leads out of posts_dir: {path} (not published)" if leaving else f"a missing file: {path}"


class MediaBinder:
    """Each post bound to its files' facts, kept by post file: bound again only when the post or a file changed."""

    def __init__(self, index: AssetIndex) -> None:
        self.index = index
        self.bindings: dict[str, tuple[Post, Post, tuple[AssetFacts | None, ...]]] = {}  # full -> parsed, bound, seen
        self._users: dict[str, set[str]] | None = None  # asset path -> post files naming it (made when first needed)

    def bound(self, full: str, post: Post) -> Post:
        """The post of this file as bound to the files it names."""
        known = self.bindings.get(full)
        if known is not None and known[0] is post:
            return known[1]
        result, seen = bind(post, self.index.facts, self.index.limits)
        if result is post:  # a post that names no media: nothing to keep
            self.bindings.pop(full, None)
            return post
        self.bindings[full] = (post, result, seen)
        if self._users is not None:
            for path in paths(post):
                self._users.setdefault(path, set()).add(full)
        return result

    def stale(self, changed: Collection[str]) -> bool:
        """Forget the bindings that these assets' new facts change; whether there was one."""
        if not changed:
            return False
        if self._users is None:
            self._users = {}
            for full, (post, _bound, _seen) in self.bindings.items():
                for path in paths(post):
                    self._users.setdefault(path, set()).add(full)
        forgotten = False
        for full in {full for path in changed for full in self._users.get(path, ())}:
            known = self.bindings.get(full)
            if known is not None and tuple(self.index.facts(p) for p in paths(known[0])) != known[2]:
                del self.bindings[full]
                forgotten = True
        return forgotten

    def keep_only(self, fulls: Collection[str]) -> None:
        """Drop the bindings of post files that are gone."""
        if any(full not in fulls for full in self.bindings):
            self.bindings = {full: known for full, known in self.bindings.items() if full in fulls}
