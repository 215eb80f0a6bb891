"""The files of the site's root (the sitemap and its parts, robots.txt, the favicon), written beside the feeds.

Made from the catalog (``SiteMemo``), written in output_dir by the feed
writer's batch write (compared, gzipped, hashed), held at ``/<name>``; the
parts of a sitemap that shrank are removed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from syndicator.config import Settings
from syndicator.core.catalog import Catalog
from syndicator.core.sitemap import is_part
from syndicator.incremental.memo import SiteMemo
from syndicator.served import Served
from syndicator.service.writer import FeedWriter
from syndicator.service.writer import WriteResult
from syndicator.store.files import prune


class SiteWriter:
    """Writes the root's files of each catalog; the builder owns it."""

    def __init__(self, settings: Settings, writer: FeedWriter, favicon: bytes) -> None:
        self.settings = settings
        self.writer = writer
        self.memo = SiteMemo(settings, favicon)
        self._names: frozenset[str] | None = None  # the root's files written last (None: not looked yet)

    def write(self, catalog: Catalog, out: WriteResult, files: Mapping[str, Served]) -> list[str]:
        """Write the root's files of ``catalog`` (held at ``/<name>``); return the sitemap parts removed.

        Files whose bytes are those held already are neither compressed nor written again.
        """
        site = self.memo.files(catalog)
        removed = self._prune(site, out)
        held = {name: f for name in site if (f := files.get(f"/{name}")) is not None and f.body == site[name]}
        out.files.update((f"/{name}", f) for name, f in held.items())
        if len(held) == len(site):
            return removed
        fresh = {name: body for name, body in site.items() if name not in held}  # a big sitemap's other parts stay
        done = self.writer.write_batch(fresh, {name: [body] for name, body in fresh.items()}, {})
        out.written.extend(done.changed)
        for name, body in fresh.items():
            last_modified = done.states[name][1] / 1e9
            kept = self.writer.output.fresh(name, body, done.zipped[name], done.etags[name], last_modified)
            if kept is not None:
                out.files[f"/{name}"] = kept
        return removed

    def _prune(self, site: Mapping[str, bytes], out: WriteResult) -> list[str]:
        """Remove the sitemap's parts (and their .gz) no longer made, when the names of the root's files changed.

        The parts on disk are read from output_dir itself: one an earlier process wrote is found as one written now.
        """
        names = frozenset(site)
        if names == self._names:
            return []
        self._names = names
        for url in [url for url in out.files if is_part(url[1:]) and url[1:] not in names]:
            del out.files[url]
        root = self.settings.output_dir
        on_disk = [entry.name for entry in os.scandir(root) if is_part(entry.name)] if root.is_dir() else []
        return prune(root, on_disk, {*names, *(f"{name}.gz" for name in names)}, set(), self.writer.replaced)
