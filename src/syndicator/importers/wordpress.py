"""Turn a WordPress export (WXR 1.0 to 1.2) into post files, safely and repeatably.

Each post keeps its WordPress guid as ``id``, so readers of the old feeds see no
new entries. A record of what was written (state_dir/wordpress.json) lets a
second run update the same files and leave alone the ones edited since. The
steps: ``wxr`` reads the XML, ``content`` converts each post's content, this
module decides slugs, ids, front matter and the redirects that keep the old
URLs working, ``media`` brings the files over, and ``config`` records the
redirects in the config file.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from syndicator.config import ConfigError
from syndicator.config import Settings
from syndicator.config import check_redirect
from syndicator.core.frontmatter import dump_post
from syndicator.core.markup import slugify
from syndicator.core.parse import parse_post
from syndicator.importers.content import Enclosure
from syndicator.importers.content import convert
from syndicator.importers.items import ImportReport
from syndicator.importers.items import PlannedPost
from syndicator.importers.media import DEFAULT_MAX_BYTES
from syndicator.importers.media import DEFAULT_TIMEOUT
from syndicator.importers.media import MediaCopier
from syndicator.importers.media import Uploads
from syndicator.importers.writer import RECORD_FILE
from syndicator.importers.writer import Writer
from syndicator.importers.writer import read_record
from syndicator.importers.wxr import Export
from syndicator.importers.wxr import Item
from syndicator.importers.wxr import Term
from syndicator.importers.wxr import WXRError
from syndicator.importers.wxr import decode
from syndicator.importers.wxr import read_wxr
from syndicator.model import LoadProblem
from syndicator.store.configfile import write_redirects
from syndicator.store.files import write_atomic

ZERO_DATE = "0000-00-00 00:00:00"
_SAFE_SLUG = re.compile(r"[\w][\w.~-]*")
Progress = Callable[[str, int, int], None]
WordPressImportError = WXRError  # the export cannot be read at all


def _recorded_enclosures(raw: Item, found: tuple[Enclosure, ...]) -> tuple[Enclosure, ...]:
    """The content's enclosures, and those WordPress recorded in ``enclosure`` postmeta (URL, length, type)."""
    recorded: dict[str, Enclosure] = {}
    for key, value in raw.meta:
        lines = [line.strip() for line in value.splitlines()]
        if key == "enclosure" and lines and lines[0].startswith(("http://", "https://")):
            length = int(lines[1]) if len(lines) > 1 and lines[1].isdigit() else 0
            recorded[lines[0]] = Enclosure(lines[0], "", lines[2] if len(lines) > 2 else "", length)
    merged = [dataclasses.replace(recorded.pop(e.url, e), title=e.title) for e in found]
    return (*merged, *recorded.values())


def _iso(value: str, *, utc: bool) -> str | None:
    """'2011-12-22 09:30:00' -> ISO 8601 (UTC when it is a _gmt field); None for WordPress's zero date."""
    if not value or value == ZERO_DATE or not re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", value):
        return None
    return value.replace(" ", "T") + ("Z" if utc else "")


# -- reading: the export's items become planned post files -------------------------------------------------------


def read_export(export: Path, settings: Settings | None = None) -> tuple[list[PlannedPost], ImportReport]:
    """Parse the export; return its posts as items and a report of what was skipped and converted."""
    items, report, _uploads = _plan(export, settings or Settings())
    return items, report


def _plan(export: Path, settings: Settings) -> tuple[list[PlannedPost], ImportReport, Uploads]:
    """The posts to write, what was skipped and converted, and which URLs are the old site's uploads."""
    wxr = read_wxr(export)
    report = ImportReport()
    site = _Site.of(wxr)
    items = []
    for raw in wxr.items:
        if _wanted(raw, report):
            item = _make_item(raw, site, report)
            if item is not None:
                items.append(item)
    _settle_keys(items)
    _unique_slugs(items, report)
    _settle_guids(items)
    items = [item for item in items if _accepted(item, settings, report)]
    report.redirects = _redirects(items, wxr)
    return items, report, Uploads.of([*wxr.site_urls, *site.attachment_urls.values()])


def _accepted(item: PlannedPost, settings: Settings, report: ImportReport) -> bool:
    """Whether ``check`` would take the post as planned; if not, the item is left out and reported with the reason.

    The post's file is read back by the parser every build uses, so whatever it
    refuses (a date such as 2020-13-45, 0000-01-01 or 9999-12-31, a slug too
    long) is refused here, before anything is written.
    """
    read = parse_post(dump_post(item.front_matter(), item.body), f"{item.date_prefix}-{item.slug}.md", settings)
    if isinstance(read, LoadProblem) and read.fatal:
        report.malformed.append(f"post {item.key} (item {item.position}): {read.message}")
        return False
    return True


@dataclass(frozen=True, slots=True)
class _Site:
    """What every post of one export is read against (looked up once, not per post)."""

    wxr: Export
    attachments: dict[int, Item]
    attachment_urls: dict[int, str]
    reusable: dict[int, str]  # wp_block id -> its content
    term_slugs: dict[tuple[str, str], str]  # (taxonomy, casefolded name) -> WordPress slug

    @classmethod
    def of(cls, wxr: Export) -> _Site:
        items = [i for i in wxr.items if i.post_id.isdigit()]
        attachments = {int(i.post_id): i for i in items if i.post_type == "attachment"}
        return cls(
            wxr,
            attachments,
            {k: a.attachment_url for k, a in attachments.items() if a.attachment_url},
            {int(i.post_id): i.content for i in items if i.post_type == "wp_block"},
            {(t.taxonomy, t.name.casefold()): t.slug for t in wxr.terms.values()},
        )


def _wanted(raw: Item, report: ImportReport) -> bool:
    """Posts only: other types and trashed or automatic items are counted as skipped."""
    if raw.post_type != "post":
        report.skipped[raw.post_type] += 1
        return False
    if raw.status in ("trash", "auto-draft", "inherit"):
        report.skipped[f"{raw.status} post"] += 1
        return False
    if not raw.post_id.isdigit():
        report.malformed.append(f"post {raw.post_id or '?'} (item {raw.index + 1}): no numeric wp:post_id")
        return False
    return True


def _make_item(raw: Item, site: _Site, report: ImportReport) -> PlannedPost | None:
    date = _iso(raw.post_date_gmt, utc=True) or _iso(raw.post_date, utc=False)
    if date is None:
        report.malformed.append(f"post {raw.post_id} (item {raw.index + 1}): no usable wp:post_date")
        return None
    title = decode(raw.title) or "(no title)"
    old_slug = unquote(raw.post_name)
    slug = old_slug or slugify(title) or f"post-{raw.post_id}"
    slug = slug if _SAFE_SLUG.fullmatch(slug) else slugify(slug) or f"post-{raw.post_id}"
    meta: dict[str, Any] = {"title": title, "date": date}
    updated = _iso(raw.post_modified_gmt, utc=True)
    if updated is not None and updated > date:
        meta["updated"] = updated
    terms = _terms(raw, site)
    for name, taxonomy in (("categories", "category"), ("tags", "post_tag")):
        if names := [t.name for t in terms if t.taxonomy == taxonomy]:
            meta[name] = names
    if raw.creator:
        meta["author"] = site.wxr.authors.get(raw.creator, raw.creator)
    meta["slug"] = slug
    # Password-protected posts become drafts: their content is never published.
    draft = raw.status in ("draft", "pending", "private") or bool(raw.password)
    report.drafts += draft
    report.scheduled += not draft and raw.status == "future"
    content = convert(raw.content, site.attachment_urls, site.reusable)
    enclosures = _recorded_enclosures(raw, content.enclosures)
    report.enclosures += len(enclosures)
    report.embeds += content.embeds
    report.lost.update(content.lost)
    item = PlannedPost(
        raw.post_id, int(raw.post_id), raw.guid, old_slug, raw.creator, terms, meta, content.html, date[:10], draft
    )
    item.enclosures = enclosures
    item.position = raw.index + 1
    if excerpt := raw.excerpt.strip():  # the excerpt written by hand
        item.meta["summary"] = excerpt
    _featured_image(item, raw, site.attachments, report)
    return item


def _terms(raw: Item, site: _Site) -> tuple[Term, ...]:
    """A post's categories and tags, each once, with WordPress's slug (from the item or the export's term lists)."""
    by_name, known = site.term_slugs, site.wxr.terms
    seen: set[tuple[str, str]] = set()
    terms = []
    for term in raw.terms:
        slug = term.slug or by_name.get((term.taxonomy, term.name.casefold()), "")
        name = known[(term.taxonomy, slug)].name if (term.taxonomy, slug) in known else term.name
        key = (term.taxonomy, slugify(name) or name.casefold())
        if key not in seen:
            seen.add(key)
            terms.append(Term(term.taxonomy, slug, name))
    return tuple(terms)


def _featured_image(item: PlannedPost, raw: Item, attachments: dict[int, Item], report: ImportReport) -> None:
    """``_thumbnail_id`` names an attachment item: its URL becomes the post's image."""
    thumbnail = raw.meta_value("_thumbnail_id")
    attachment = attachments.get(int(thumbnail)) if thumbnail.isdigit() else None
    if attachment is None or not attachment.attachment_url:
        return
    item.image = attachment.attachment_url
    item.image_alt = decode(attachment.meta_value("_wp_attachment_image_alt"))
    report.images += 1


def _settle_keys(items: list[PlannedPost]) -> None:
    """Items repeating a wp:post_id are all kept: the n-th gets the record key "<id>-<n>"."""
    seen: Counter[int] = Counter()
    for item in items:
        seen[item.post_id] += 1
        if seen[item.post_id] > 1:
            item.key = f"{item.post_id}-{seen[item.post_id]}"


def _unique_slugs(items: list[PlannedPost], report: ImportReport) -> None:
    """Two posts sharing a slug: as WordPress does, the first keeps it and the next get -2, -3...

    Published posts come first, then drafts, each in post-id order, so a draft never takes a
    published post's address.
    """
    native = {item.slug for item in items}
    assigned: set[str] = set()
    for item in sorted(items, key=lambda i: (i.draft, i.post_id)):
        slug = item.slug
        if slug in assigned:
            number = 2
            while f"{slug}-{number}" in native or f"{slug}-{number}" in assigned:
                number += 1
            item.meta["slug"] = f"{slug}-{number}"
            report.renamed.append((slug, item.slug, item.post_id))
        assigned.add(item.slug)


def _settle_guids(items: list[PlannedPost]) -> None:
    """Keep each guid as the post's id; of two posts sharing one, the lower post id keeps it."""
    owners: dict[str, int] = {}
    for item in sorted(items, key=lambda i: i.post_id):
        if not item.guid:
            continue
        if item.guid in owners:
            item.id = f"{item.guid}#wp-{item.key}"
        else:
            owners[item.guid] = item.post_id
            item.id = item.guid


def _redirects(items: list[PlannedPost], wxr: Export) -> dict[str, dict[str, str]]:
    """The old slugs that differ from the new ones, per kind, and every post's WordPress id."""
    table: dict[str, dict[str, str]] = {"category": {}, "tag": {}, "author": {}, "post": {}}

    def add(kind: str, old: str, new: str) -> None:
        if old and new and old != new and old not in table[kind]:
            try:
                check_redirect(kind, old, new, "import")
            except ConfigError:
                return
            table[kind][old] = new

    slugs = {item.slug for item in items}
    for item in sorted(items, key=lambda i: (i.post_id, i.key)):
        for term in item.terms:
            add("category" if term.taxonomy == "category" else "tag", unquote(term.slug), slugify(term.name))
        if item.login:
            author = slugify(wxr.authors.get(item.login, item.login)) or "anonymous"
            add("author", item.login, author)
            add("author", slugify(item.login), author)
        add("post", str(item.post_id), item.slug)
        if not item.old_slug.isdigit() and item.old_slug not in slugs:
            add("post", item.old_slug, item.slug)
    return {kind: entries for kind, entries in table.items() if entries}


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
    items, report, uploads = _plan(export, settings)
    copier = MediaCopier(media, posts_dir, media_timeout, media_max_bytes, media_allow_private) if media else None
    writer = Writer(posts_dir, read_record(state_dir), report, uploads, copier, force)
    if posts_dir.is_dir():
        writer.taken = {str(p.relative_to(posts_dir)) for p in posts_dir.rglob("*.md")}
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
        report.redirects_added, report.redirects_kept = write_redirects(config, report.redirects)
    return report
