"""Turn a WordPress export (WXR 1.0 to 1.2) into post files, safely and repeatably.

Each post keeps its WordPress guid as ``id``, so readers of the old feeds see no
new entries. A record of what was written (state_dir/wordpress.json) lets a
second run update the same files and leave alone the ones edited since. The
steps: ``wxr`` reads the XML, ``posts`` makes each post and page (``content``
converts its content), ``links`` points its links at the new site, ``taxonomy``
decides the redirects that keep the old URLs working and the category table,
``writer`` writes the files (``media`` brings the uploads over), and
``store.configfile`` records the redirects and categories in the config file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Mapping
from pathlib import Path

from syndicator.config import Settings
from syndicator.core.frontmatter import dump_post
from syndicator.core.parse import parse_post
from syndicator.importers.items import ImportReport
from syndicator.importers.items import PlannedPost
from syndicator.importers.links import OldSite
from syndicator.importers.links import rewrite
from syndicator.importers.media import DEFAULT_MAX_BYTES
from syndicator.importers.media import DEFAULT_TIMEOUT
from syndicator.importers.media import MediaCopier
from syndicator.importers.media import Uploads
from syndicator.importers.posts import Site
from syndicator.importers.posts import make_item
from syndicator.importers.posts import settle_guids
from syndicator.importers.posts import settle_keys
from syndicator.importers.posts import unique_slugs
from syndicator.importers.posts import wanted
from syndicator.importers.taxonomy import categories
from syndicator.importers.taxonomy import distinct_category_names
from syndicator.importers.taxonomy import redirects
from syndicator.importers.writer import RECORD_FILE
from syndicator.importers.writer import Writer
from syndicator.importers.writer import read_record
from syndicator.importers.writer import slugs_here
from syndicator.importers.wxr import WXRError
from syndicator.importers.wxr import read_wxr
from syndicator.problem import LoadProblem
from syndicator.store.configfile import write_tables
from syndicator.store.files import write_atomic

Progress = Callable[[str, int, int], None]
_FILE_NAME = re.compile(r"[^/\s\"'<>?#=]+\.[a-z0-9]{2,5}\b", re.I)  # the last part of a file's URL
_SIZE = re.compile(r"-\d+x\d+(\.[a-z0-9]+)$", re.I)  # an image size WordPress made: photo-300x200.jpg
WordPressImportError = WXRError  # the export cannot be read at all


# -- reading: the export's items become planned post files -------------------------------------------------------


def read_export(export: Path, settings: Settings | None = None) -> tuple[list[PlannedPost], ImportReport]:
    """Parse the export; return its posts as items and a report of what was skipped and converted."""
    items, report, _uploads = _plan(export, settings or Settings())
    return items, report


def _plan(
    export: Path,
    settings: Settings,
    taken: Mapping[str, Collection[str]] | None = None,
    written: Mapping[str, str] | None = None,
) -> tuple[list[PlannedPost], ImportReport, Uploads]:
    """The posts to write, what was skipped and converted, and which URLs are the old site's uploads.

    ``taken``: the slugs of the posts already in posts_dir that no import's record names, with their ids;
    ``written``: the slugs of the files earlier imports wrote, by record key (see ``unique_slugs``)."""
    wxr = distinct_category_names(read_wxr(export))
    report = ImportReport(items=len(wxr.items))
    site = Site.of(wxr)
    items = []
    for raw in site.items:
        if wanted(raw, report):
            item = make_item(raw, site, report)
            if item is not None:
                items.append(item)
    settle_keys(items)
    settle_guids(items)
    unique_slugs(items, report, taken or {}, written or {})
    items = [item for item in items if _accepted(item, settings, report)]
    old_site = OldSite.of(wxr, site.items, items)
    for item in items:
        item.body, count = rewrite(item.body, old_site)
        if isinstance(item.meta.get("summary"), str):
            item.meta["summary"], in_summary = rewrite(item.meta["summary"], old_site)
            count += in_summary
        report.links += count
    report.redirects = redirects(items, wxr)
    report.categories = categories(items, wxr)
    report.pages = sum(item.is_page for item in items)
    report.unused_attachments = _unused(site, items)
    return items, report, Uploads.of([*wxr.site_urls, *(a.url for a in site.library.attachments.values())])


def _accepted(item: PlannedPost, settings: Settings, report: ImportReport) -> bool:
    """Whether ``check`` would take the post as planned; if not, the item is left out and reported with the reason.

    The post's file is read back by the parser every build uses, so whatever it
    refuses (a date such as 2020-13-45, 0000-01-01 or 9999-12-31, a slug too
    long) is refused here, before anything is written.
    """
    read = parse_post(dump_post(item.front_matter(), item.body), item.file_name(), settings)
    if isinstance(read, LoadProblem) and read.fatal:
        kind = "page" if item.is_page else "post"
        report.malformed.append(f"{kind} {item.key} (item {item.position}): {read.message}")
        return False
    return True


def _unused(site: Site, items: list[PlannedPost]) -> int:
    """How many of the export's attachments no imported post or page shows, links to or has as its image.

    An image counts as used in any of its sizes (``photo-300x200.jpg`` uses ``photo.jpg``).
    """
    used = {
        form
        for item in items
        for part in (item.body, item.image, *(e.url for e in item.enclosures))
        for name in _FILE_NAME.findall(part.lower())
        for form in (name, _SIZE.sub(r"\1", name))
    }
    names = (_FILE_NAME.findall(a.url.lower()) for a in site.library.attachments.values())
    return sum(1 for found in names if not found or found[-1] not in used)


def import_wordpress(
    export: Path,
    posts_dir: Path,
    state_dir: Path,
    *,
    force: bool = False,
    progress: Progress | None = None,
    media: str | None = None,
    config: Path | None = None,
    media_timeout: float = DEFAULT_TIMEOUT,
    media_max_bytes: int = DEFAULT_MAX_BYTES,
    media_allow_private: bool = False,
    settings: Settings | None = None,
) -> ImportReport:
    """Write (or update) one post file per WordPress post; bring media over; record redirects; say what was done.

    ``media`` is a folder (a copy of wp-content/uploads) or a URL base to take the posts'
    uploads from; without it, their URLs stay on the old site. A URL base must be at a
    public address unless ``media_allow_private`` (see ``media.fetch``). ``config`` is
    the config file that receives the redirects of old slugs and post ids. Each post is
    checked as ``settings`` (default: the defaults) would read it; one that would be
    refused is reported and not written.
    """
    settings = settings or Settings()
    record = read_record(state_dir)
    present = {p.relative_to(posts_dir).as_posix() for p in posts_dir.rglob("*.md")} if posts_dir.is_dir() else set()
    items, report, uploads = _plan(export, settings, *slugs_here(posts_dir, present, record))
    copier = MediaCopier(media, posts_dir, media_timeout, media_max_bytes, media_allow_private) if media else None
    writer = Writer(posts_dir, record, report, uploads, copier, force, present)
    unwritten: set[str] = set()
    for done, item in enumerate(items):
        if progress is not None and done % 50 == 0:
            progress("importing posts", done, len(items))
        if not writer.write(item):
            unwritten.add(item.slug)
    if unwritten:  # no redirect to a post that is not there
        posts = {old: new for old, new in report.redirects.pop("post", {}).items() if new not in unwritten}
        report.redirects.update({"post": posts} if posts else {})
    if progress is not None:
        progress("importing posts", len(items), len(items))
    write_atomic(state_dir / RECORD_FILE, json.dumps(writer.record, indent=1, sort_keys=True).encode("utf-8"))
    if copier is not None:
        report.media_fetched, report.media_present = len(copier.fetched), len(copier.present)
        report.media_failed = dict(copier.failed)
    if config is not None:
        written = write_tables(config, report.redirects, report.categories)
        report.redirects_added, report.redirects_kept = written.redirects_added, written.redirects_kept
        report.categories_added = written.categories_added
    return report
