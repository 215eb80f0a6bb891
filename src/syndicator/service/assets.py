"""Publish the assets that published posts use: copied into output_dir when they changed, pruned when unused.

Only files a build copied (recorded in state_dir) are ever replaced or
removed. Each copy replaces its file by rename, so neither nginx nor ``serve``
hands out part of one. A source is copied only when it is still the file the
scan found, inside posts_dir (never through a link leading out of it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote

from syndicator.config import Settings
from syndicator.core.assets import MEDIA_DIR
from syndicator.core.assets import config_images
from syndicator.core.assets import media_prefix
from syndicator.core.assets import media_type
from syndicator.core.assets import output_path
from syndicator.core.cachekeys import asset_keys
from syndicator.core.urls import FEEDS_PREFIX
from syndicator.core.urls import PARTNER_FEEDS_PREFIX
from syndicator.model import Post
from syndicator.served import Served
from syndicator.served import etag_of
from syndicator.store.files import FileState
from syndicator.store.files import copy_atomic
from syndicator.store.files import prune
from syndicator.store.files import state_of
from syndicator.store.files import write_into
from syndicator.store.images import ResizeError
from syndicator.store.images import resized_image
from syndicator.store.records import AssetRecord
from syndicator.store.records import read_asset_records
from syndicator.store.records import write_asset_records
from syndicator.store.sources import open_source
from syndicator.store.sources import real_root

logger = logging.getLogger(__name__)

PARTNER_MEDIA = "partner-media"  # under state_dir: the files of posts for partners only, and their records

Located = tuple[str, FileState]  # (full path, file state) of an asset under posts_dir
Resized = tuple[Located, tuple[int, int]]  # an image's resized copy: its source, and its width and height


@dataclass(frozen=True, slots=True)
class AssetOutput:
    """What publishing the assets did: each served asset by URL path, the files copied and removed."""

    files: dict[str, Served]
    written: list[str]
    removed: list[str]


def used_resized(posts: Iterable[Post], settings: Settings, files: Mapping[str, Located]) -> dict[str, Resized]:
    """The resized copies the published posts' images over the limits need (core.thumbnails): path under
    output_dir -> the source, where it is, and the copy's size."""
    prefix = media_prefix(settings)
    wanted: dict[str, Resized] = {}
    for post in posts:
        image, ref = post.image, post.media.image
        if image is not None and image.thumbnail and ref is not None and ref.path in files:
            out = f"{MEDIA_DIR}/{unquote(image.thumbnail.removeprefix(prefix))}"
            wanted[out] = (files[ref.path], (image.thumbnail_width, image.thumbnail_height))
    return wanted


def used_assets(posts: Iterable[Post], settings: Settings, files: Mapping[str, Located]) -> dict[str, Located]:
    """The assets the published posts use, and the images the config names: path under posts_dir -> where it is."""
    used = {path for post in posts for path in post.assets}
    used |= {path for _name, _url, path in config_images(settings) if path}
    return {path: files[path] for path in used if path in files}


def partner_media(settings: Settings) -> Path:
    """Where the files of posts for partners only are copied (under ``media/``, as in output_dir)."""
    return settings.state_dir / PARTNER_MEDIA


def partner_assets(posts: Iterable[Post], files: Mapping[str, Located]) -> dict[str, Located]:
    """The assets the published posts for partners only use: path under posts_dir -> where it is."""
    used = {path for post in posts if post.partners_only for path in post.assets}
    return {path: files[path] for path in used if path in files}


def folders_of(paths: Iterable[str]) -> set[str]:
    """Every folder the paths are in, and the folders those are in (``a/b/c.png``: ``a/b`` and ``a``)."""
    folders = set()
    for path in paths:
        while "/" in path:
            path = path.rsplit("/", 1)[0]
            folders.add(path)
    return folders


def url_path(out: str, prefix: str = FEEDS_PREFIX) -> str:
    """The PATH_INFO of a file under output_dir, as a WSGI server hands it over (UTF-8 bytes read as Latin-1)."""
    return (prefix + out).encode("utf-8").decode("latin-1")


class AssetWriter:
    """Copies the used assets into output_dir, keeps their records, removes the ones no longer used.

    ``partners``: the one for the files of posts for partners only, which are
    never written into output_dir: it copies them, and keeps their records,
    under ``state_dir/partner-media/`` as if that were both its output_dir and
    its state_dir; ``serve`` hands them out under /partners/feeds/media/ to a
    partner's token.
    """

    def __init__(self, settings: Settings, *, partners: bool = False) -> None:
        if partners:
            settings = replace(settings, output_dir=partner_media(settings), state_dir=partner_media(settings))
        self.settings = settings
        self.url_prefix = PARTNER_FEEDS_PREFIX if partners else FEEDS_PREFIX
        self.partners = partners  # a partner's files are private: no CDN keeps them
        self.records = read_asset_records(settings)
        self.served: dict[str, Served] = {}  # every asset copied, by URL path, as the last publish left them
        self._wanted: tuple[Mapping[str, Located], Mapping[str, Resized]] | None = None
        self._served_from: dict[str, AssetRecord] | None = None  # the records ``served`` was made of
        self._prefix = f"{self.settings.output_dir}/"
        self.folders = folders_of(self.records) if partners else set()  # its own root's: all of them are its own

    def publish(
        self, posts: Iterable[Post], files: Mapping[str, Located], folders: set[str], look: bool = True
    ) -> AssetOutput:
        """Copy the assets the posts use (``files``: every asset by path) into output_dir; remove unused ones.

        ``look`` False trusts the copies to be on disk as written (a reload that
        looks only at the files a watcher named): they are not stat-ed again.
        """
        posts = list(posts)
        resized = used_resized(posts, self.settings, files)
        return self.publish_files(used_assets(posts, self.settings, files), folders, look, resized)

    def publish_files(
        self,
        wanted: Mapping[str, Located],
        folders: set[str],
        look: bool = True,
        resized: Mapping[str, Resized] | None = None,
    ) -> AssetOutput:
        """Bring output_dir's copies in line with ``wanted`` (asset path -> where it is and its state), and the
        resized copies with ``resized`` (path under output_dir -> the source and the copy's size)."""
        resized = resized or {}
        if not look and (wanted, resized) == self._wanted:
            return AssetOutput(self.served, [], [])
        self._wanted = (wanted, resized)
        records: dict[str, AssetRecord] = {}
        written: list[str] = []
        root = real_root(str(self.settings.posts_dir))
        jobs: list[tuple[str, Located, tuple[int, int] | None]] = [
            (output_path(path), located, None) for path, located in sorted(wanted.items())
        ]
        jobs += [(out, located, size) for out, (located, size) in sorted(resized.items())]
        for out, (full, source), size in jobs:
            record = self.records.get(out)
            if record is None or record.source != source or (look and not self._intact(out, record)):
                copied = self._copy(full, source, root, out, folders, size)
                if copied is None:
                    continue
                record = copied
                written.append(out)
            records[out] = record
        gone = set(self.records).difference(records)
        removed = prune(self.settings.output_dir, gone, set(records), folders) if gone else []
        if records != self.records:
            write_asset_records(self.settings, records)
        if records != self._served_from:
            self.served, self._served_from = self._serve(records), records
        self.records = records
        return AssetOutput(self.served, written, removed)

    def _copy(
        self, full: str, source: FileState, root: str, out: str, folders: set[str], size: tuple[int, int] | None
    ) -> AssetRecord | None:
        """Copy one asset into output_dir (or, with a ``size``, a copy resized to it) if it is still the file the
        scan found inside posts_dir (``root``)."""
        try:
            with open_source(full, root, source) as reader:
                if size is None:
                    copied, (length, mtime_ns), etag = copy_atomic(reader, self.settings.output_dir, out, folders)
                    return AssetRecord(copied, length, mtime_ns, etag)
                data = resized_image(reader, *size, out.rpartition(".")[2])
            length, mtime_ns = write_into(self.settings.output_dir, out, data, folders)
        except (OSError, ResizeError) as exc:
            logger.warning("asset not copied path=%s out=%s reason=%s", full, out, exc)
            return None
        return AssetRecord(source, length, mtime_ns, etag_of(data))

    def _intact(self, out: str, record: AssetRecord) -> bool:
        state = state_of(self._prefix + out)
        return state is not None and state[:2] == (record.size, record.mtime_ns)

    def _serve(self, records: dict[str, AssetRecord]) -> dict[str, Served]:
        """Each asset as served, by URL path (unchanged ones are the same objects as last time)."""
        served = {}
        for out, record in records.items():
            key = url_path(out, self.url_prefix)
            known = self.served.get(key)
            if known is None or (known.size, known.mtime_ns, known.etag) != (record.size, record.mtime_ns, record.etag):
                file, last_modified = str(self.settings.output_dir / out), record.mtime_ns / 1e9
                known = Served.in_file(
                    file,
                    media_type(out),
                    record.etag,
                    last_modified,
                    size=record.size,
                    mtime_ns=record.mtime_ns,
                    asset=True,
                    keys=() if self.partners else asset_keys(out.removeprefix(f"{MEDIA_DIR}/")),
                )
            served[key] = known
        return served
